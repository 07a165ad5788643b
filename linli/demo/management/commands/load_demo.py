"""``linli load-demo [--reset]``: load the demo places, residents and accounts.

Demo only: the accounts share a public password and a public TOTP secret.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from linli.core.management.process import console_for, progress_bar
from linli.core.registry import demo_seeds
from linli.demo.loader import DEMO_PASSWORD, DEMO_TOTP_SECRET, DemoSummary, load_demo, reset_demo
from linli.people.models import PartyKind, Vulnerability
from linli.places.models import PlaceKind


class Command(BaseCommand):
    help = "Load the demo data (places, residents, departments, one account per role, each app's seed). Demo only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="delete the demo data first, then load it again")
        parser.add_argument("--seed", type=int, default=20261125, help="random seed of the generated people")

    def handle(self, *args: Any, reset: bool, seed: int, **options: Any) -> None:
        if not getattr(settings, "LINLI_DEMO", False):
            raise CommandError(_("演示数据只能在演示环境加载(LINLI_DEMO)。"))
        console = console_for(self)
        with progress_bar(console) as bar:
            task = bar.add_task(_("演示数据"), total=None)

            def progress(description: str, done: int, total: int) -> None:
                bar.update(task, description=description, completed=done, total=total)

            with transaction.atomic():
                if reset:
                    bar.update(task, description=_("删除演示数据"))
                    deleted = reset_demo()
                    parts = ", ".join(f"{k} {v}" for k, v in deleted.items() if v)
                    console.print(_("已删除:%(what)s") % {"what": parts or _("无")})
                summary = load_demo(progress=progress, seed=seed)
        self._report(console, summary)

    def _report(self, console: Console, summary: DemoSummary) -> None:
        if summary.already_loaded:
            console.print("[yellow]" + _("演示数据已存在，未作改动(要重新加载，请加 --reset)。") + "[/yellow]")
        else:
            console.print(
                "[green]" + _("演示数据已加载，用时 %(seconds).1f 秒。") % {"seconds": summary.seconds} + "[/green]"
            )

        counts = Table(title=_("演示数据"), show_header=True)
        counts.add_column(_("项目"))
        counts.add_column(_("数量"), justify="right")
        for kind, label in PlaceKind.choices:
            if summary.places.get(kind):
                counts.add_row(_("地点·%(kind)s") % {"kind": label}, f"{summary.places[kind]:,}")
        counts.add_row(_("户"), f"{summary.households:,}")
        counts.add_row(_("居民"), f"{summary.people:,}")
        counts.add_row(_("部门"), f"{summary.departments:,}")
        for kind, label in PartyKind.choices:
            if kind:
                counts.add_row(str(label), f"{summary.party_members.get(kind, 0):,}")
        counts.add_row(_("平安小区居民"), f"{summary.pingan_residents:,}")
        pingan = summary.pingan_party_members
        counts.add_row(
            _("平安小区党员"),
            _("%(all)s = %(direct)s 直管 + %(residence)s 居住地 + %(paired)s 结对共建")
            % {
                "all": sum(pingan.values()),
                "direct": pingan.get("direct", 0),
                "residence": pingan.get("residence", 0),
                "paired": pingan.get("paired_unit", 0),
            },
        )
        for kind, label in Vulnerability.choices:
            counts.add_row(str(label), f"{summary.vulnerabilities.get(kind, 0):,}")
        counts.add_row(_("退役军人"), f"{summary.veterans:,}")
        counts.add_row(_("志愿者"), f"{summary.volunteers:,}")
        for seed in demo_seeds():
            figures = summary.seeds.get(seed.key, {})
            for key, label in seed.load_module().labels():
                counts.add_row(label, f"{figures.get(key, 0):,}")
        console.print(counts)

        accounts = Table(title=_("演示账户(仅供演示)"), show_header=True)
        for column in (_("用户名"), _("角色"), _("地点"), _("登录方式")):
            accounts.add_column(column)
        for row in summary.accounts:
            accounts.add_row(*row)
        console.print(accounts)
        console.print(_("密码(所有演示账户，仅供演示):") + f" [bold]{DEMO_PASSWORD}[/bold]")
        console.print(_("两步验证密钥 TOTP(所有工作人员账户，仅供演示):") + f" [bold]{DEMO_TOTP_SECRET}[/bold]")
        for seed in demo_seeds():
            for note in getattr(seed.load_module(), "notes", list)():
                console.print(note)
        console.print(_("当前验证码:") + " [bold]linli totp-code <username>[/bold]")
        console.print(_("居民的短信验证码写入:") + " " + str(settings.SMS_FILE_PATH))
