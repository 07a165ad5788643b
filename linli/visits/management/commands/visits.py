"""``linli visits balance|import|export|refresh-care``: care assignments (包保) from the shell.

    linli visits balance PLACE_CODE [--capacity 10] [--rebalance] [--apply]
    linli visits import FILE.xlsx|csv --as USERNAME
    linli visits export PLACE_CODE --as USERNAME -o FILE.xlsx
    linli visits refresh-care

``balance`` prints the proposed carers of a community's (grid's, building's) households without
one, and the households nobody can take; with ``--apply`` it writes them as the system.
``import`` and ``export`` act as the named account, inside its scope (all or nothing, errors
per row; names masked unless it may unmask). ``refresh-care`` recomputes every household's last
visit times from the visits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from linli.accounts.models import User
from linli.core.access import SYSTEM
from linli.core.management.process import console_for, progress_bar
from linli.core.sheets import ImportFailed
from linli.places.models import Place
from linli.visits.balance import NEARNESS_LABELS, Proposal, balance_apply, balance_propose
from linli.visits.care_io import care_export, care_import
from linli.visits.services import visits_refresh_care

#: Proposals shown in the table; the rest are counted.
SHOWN = 200


def find_place(code: str) -> Place:
    place = Place.objects.filter(code=code).first()
    if place is None:
        raise CommandError(_("地点编码「%(code)s」不存在") % {"code": code})
    return place


def find_user(username: str | None) -> User:
    if not username:
        raise CommandError(_("请用 --as 指定操作账号"))
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("账号「%(username)s」不存在或已停用") % {"username": username})
    return user


class Command(BaseCommand):
    help = "Balance, import or export care assignments (包保), or refresh the kept last-visit times."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        balance = actions.add_parser("balance", help="propose carers for households without one")
        balance.add_argument("place", help="the community's, grid's or building's place code")
        balance.add_argument("--capacity", type=int, default=10, help="households per carer at most (10)")
        balance.add_argument("--rebalance", action="store_true", help="propose for every household, not only new ones")
        balance.add_argument("--apply", action="store_true", help="write the proposals (as the system)")
        load = actions.add_parser("import", help="assign carers from an XLSX or CSV file")
        load.add_argument("file", type=Path)
        load.add_argument("--as", dest="username", help="the acting account")
        export = actions.add_parser("export", help="write the current assignments to an XLSX file")
        export.add_argument("place", help="place code")
        export.add_argument("--as", dest="username", help="the acting account")
        export.add_argument("-o", "--output", type=Path, required=True, help="the XLSX file to write")
        actions.add_parser("refresh-care", help="recompute the last-visit times from the visits")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        console = console_for(self)
        try:
            if action == "balance":
                self.balance(console, **options)
            elif action == "import":
                self.load(console, **options)
            elif action == "export":
                user = find_user(options["username"])
                place = find_place(options["place"])
                target: Path = options["output"]
                if not target.parent.is_dir():
                    raise CommandError(_("目录不存在：%(directory)s") % {"directory": target.parent})
                target.write_bytes(care_export(actor=user, place=place))
                console.print("[green]✓[/green] " + _("已导出：%(target)s") % {"target": target})
            else:
                with console.status(_("刷新走访时间")):
                    written = visits_refresh_care()
                console.print(_("[green]✓[/green] 更新 %(written)s 户") % {"written": written})
        except ImportFailed as exc:
            for error in exc.row_errors:
                console.print(f"[red]✗[/red] {error}")
            raise CommandError(_("未导入：%(count)s 行有错误") % {"count": len(exc.row_errors)}) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc

    def balance(
        self, console: Console, *, place: str, capacity: int, rebalance: bool, apply: bool, **_options: Any
    ) -> None:
        if capacity < 1:
            raise CommandError(_("--capacity 至少为 1"))
        found = find_place(place)
        with console.status(_("计算分配方案")):
            proposals = balance_propose(place=found, capacity=capacity, rebalance=rebalance)
        placed = [p for p in proposals if p.carer is not None]
        unplaced = [p for p in proposals if p.carer is None]
        console.print(_proposals_table(found, placed, capacity))
        if unplaced:
            console.print(_unplaced_table(unplaced))
        changes = sum(p.changes for p in placed)
        console.print(
            _("拟分配 %(changes)s 户，无人可包保 %(count)s 户") % {"changes": changes, "count": len(unplaced)}
        )
        if not apply:
            if changes:
                console.print(_("未写入；加 --apply 写入"))
            return
        with progress_bar(console) as bar:
            task = bar.add_task(_("写入"), total=changes)
            written = balance_apply(
                actor=SYSTEM, proposals=placed, progress=lambda done, total: bar.update(task, completed=done)
            )
        console.print(_("[green]✓[/green] 已写入 %(written)s 户") % {"written": written})

    def load(self, console: Console, *, file: Path, username: str | None, **_options: Any) -> None:
        user = find_user(username)
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        with progress_bar(console) as bar:
            task = bar.add_task(_("导入"), total=None)
            result = care_import(
                actor=user,
                data=file.read_bytes(),
                filename=file.name,
                progress=lambda done, total, phase="writing": bar.update(task, completed=done, total=total or None),
            )
        console.print(
            "[green]✓[/green] "
            + _("新分配 %(created)s · 改派 %(updated)s · 未变 %(unchanged)s")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )


def _proposals_table(place: Place, proposals: list[Proposal], capacity: int) -> Table:
    table = Table(
        title=_("%(name)s (%(code)s) · 包保分配方案(每人至多 %(capacity)s 户)")
        % {"name": place.name, "code": place.code, "capacity": capacity}
    )
    table.add_column(_("住户"), no_wrap=True)
    table.add_column(_("楼栋"))
    table.add_column(_("重点"), justify="center")
    table.add_column(_("包保人"), no_wrap=True)
    table.add_column(_("距离"))
    table.add_column(_("原包保人"), no_wrap=True)
    for p in proposals[:SHOWN]:
        assert p.carer is not None
        was = "" if p.current_carer_id is None else ("=" if not p.changes else f"#{p.current_carer_id}")
        table.add_row(
            p.household.place.code,
            p.building,
            "★" if p.vulnerable else "",
            f"{p.carer.name} #{p.carer.pk}",
            NEARNESS_LABELS.get(p.nearness or 0, ""),
            was,
        )
    if len(proposals) > SHOWN:
        table.caption = _("另有 %(count)s 户未列出") % {"count": len(proposals) - SHOWN}
    return table


def _unplaced_table(proposals: list[Proposal]) -> Table:
    table = Table(title=_("无人可包保"), title_style="bold red")
    table.add_column(_("住户"), no_wrap=True)
    table.add_column(_("楼栋"))
    table.add_column(_("重点"), justify="center")
    table.add_column(_("原因"))
    for p in proposals[:SHOWN]:
        table.add_row(p.household.place.code, p.building, "★" if p.vulnerable else "", p.reason)
    if len(proposals) > SHOWN:
        table.caption = _("另有 %(count)s 户未列出") % {"count": len(proposals) - SHOWN}
    return table
