"""``linli load-demo [--reset]``: load the demo places, residents and accounts.

Demo only: the accounts share a public password and a public TOTP secret.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.console import Console
from rich.table import Table

from linli.core.management.process import console_for, progress_bar
from linli.demo.loader import DEMO_PASSWORD, DEMO_TOTP_SECRET, DemoSummary, load_demo, reset_demo
from linli.people.models import PartyKind, Vulnerability
from linli.places.models import PlaceKind


class Command(BaseCommand):
    help = "Load the demo data (places, residents, departments, one account per role). Demo only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="delete the demo data first, then load it again")
        parser.add_argument("--seed", type=int, default=20261125, help="random seed of the generated people")

    def handle(self, *args: Any, reset: bool, seed: int, **options: Any) -> None:
        if not getattr(settings, "LINLI_DEMO", False):
            raise CommandError(
                "演示数据只能在演示环境加载 / Demo data may only be loaded with the demo settings (LINLI_DEMO)"
            )
        console = console_for(self)
        with progress_bar(console) as bar:
            task = bar.add_task("演示数据 / demo data", total=None)

            def progress(description: str, done: int, total: int) -> None:
                bar.update(task, description=description, completed=done, total=total)

            with transaction.atomic():
                if reset:
                    bar.update(task, description="删除演示数据 / deleting the demo data")
                    deleted = reset_demo()
                    parts = ", ".join(f"{k} {v}" for k, v in deleted.items() if v)
                    console.print(f"已删除 / deleted: {parts or 'nothing'}")
                summary = load_demo(progress=progress, seed=seed)
        self._report(console, summary)

    def _report(self, console: Console, summary: DemoSummary) -> None:
        if summary.already_loaded:
            console.print(
                "[yellow]演示数据已存在，未作改动 / The demo data is already loaded: nothing changed "
                "(use --reset to load it again)[/yellow]"
            )
        else:
            console.print(f"[green]演示数据已加载 / Demo data loaded in {summary.seconds:.1f} s[/green]")

        counts = Table(title="演示数据 / Demo data", show_header=True)
        counts.add_column("项目 / what")
        counts.add_column("数量 / count", justify="right")
        for kind, label in PlaceKind.choices:
            if summary.places.get(kind):
                counts.add_row(f"地点·{label} / {kind}", f"{summary.places[kind]:,}")
        counts.add_row("户 / households", f"{summary.households:,}")
        counts.add_row("居民 / people", f"{summary.people:,}")
        counts.add_row("部门 / departments", f"{summary.departments:,}")
        for kind, label in PartyKind.choices:
            if kind:
                counts.add_row(f"{label} / party: {kind}", f"{summary.party_members.get(kind, 0):,}")
        counts.add_row("平安小区居民 / Pingan estate residents", f"{summary.pingan_residents:,}")
        pingan = summary.pingan_party_members
        counts.add_row(
            "平安小区党员 / Pingan party members",
            f"{sum(pingan.values())} = {pingan.get('direct', 0)} 直管 + {pingan.get('residence', 0)} 居住地 + "
            f"{pingan.get('paired_unit', 0)} 结对共建",
        )
        for kind, label in Vulnerability.choices:
            counts.add_row(f"{label} / {kind}", f"{summary.vulnerabilities.get(kind, 0):,}")
        counts.add_row("退役军人 / veterans", f"{summary.veterans:,}")
        counts.add_row("志愿者 / volunteers", f"{summary.volunteers:,}")
        from linli.needs.models import Status

        for status, label in Status.choices:
            if summary.needs.get(status):
                counts.add_row(f"诉求·{label} / needs: {status}", f"{summary.needs[status]:,}")
        from linli.demo.visits import COUNT_LABELS

        for key, what in COUNT_LABELS:
            counts.add_row(what, f"{summary.visits.get(key, 0):,}")
        console.print(counts)

        accounts = Table(title="演示账户 / Demo accounts (demo only)", show_header=True)
        for column in ("用户名 / username", "角色 / role", "地点 / place", "登录方式 / sign-in"):
            accounts.add_column(column)
        for row in summary.accounts:
            accounts.add_row(*row)
        console.print(accounts)
        console.print(f"密码 / password (all accounts, demo only): [bold]{DEMO_PASSWORD}[/bold]")
        console.print(f"TOTP 密钥 / TOTP secret (all staff accounts, demo only): [bold]{DEMO_TOTP_SECRET}[/bold]")
        console.print("接口密钥 / API key of the demo 12345 client (Open311, triage): [bold]linli-demo-key[/bold]")
        console.print("当前验证码 / current TOTP code: [bold]linli totp-code <username>[/bold]")
        console.print("居民短信验证码写入 / residents' SMS codes go to: " + str(settings.SMS_FILE_PATH))
