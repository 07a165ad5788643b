"""``linli calendar seed|import|show``: the working-day calendar (holidays and make-up days).

``seed [--years 2025 2026]`` loads the national calendar from the chinese-calendar package
(years it does not know are skipped); ``import FILE [--city CODE]`` loads a year's calendar
from an XLSX or CSV file (日期, 类型 休/班, 名称), nationally or for one city; ``show YEAR
[--city CODE]`` prints the holidays and make-up working days, and a warning when the year has
no calendar (deadlines then count Monday to Friday).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import formats
from django.utils.translation import gettext as _
from rich.table import Table

from linli.core.access import SYSTEM
from linli.core.management.process import console_for
from linli.core.sheets import ImportFailed
from linli.places.models import Place
from linli.workdays import services as workdays


def find_city(code: str | None) -> Place | None:
    if not code:
        return None
    city = Place.objects.filter(code=code).first()
    if city is None:
        raise CommandError(_("地点编码 %(code)s 不存在") % {"code": code})
    return city


class Command(BaseCommand):
    help = "Seed, import or show the working-day calendar (public holidays and make-up working days)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        seed = actions.add_parser("seed", help="load the national calendar from the chinese-calendar package")
        seed.add_argument("--years", type=int, nargs="+", help="only these years (default: every year it knows)")
        load = actions.add_parser("import", help="import a calendar from an XLSX or CSV file")
        load.add_argument("file", type=Path)
        load.add_argument("--city", help="the city's place code (default: the national calendar)")
        show = actions.add_parser("show", help="print a year's holidays and make-up working days")
        show.add_argument("year", type=int)
        show.add_argument("--city", help="the city's place code")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "seed":
            self.seed(options.get("years"))
        elif action == "import":
            self.load(options["file"], find_city(options.get("city")))
        else:
            self.show(options["year"], find_city(options.get("city")))

    def seed(self, years: list[int] | None) -> None:
        console = console_for(self)
        written = workdays.calendar_seed(years=years)
        if years:
            for warning in workdays.calendar_warnings(years):
                console.print(f"[yellow]![/yellow] {warning}")
        console.print(_("[green]✓[/green] 写入 %(written)s 天") % {"written": written})

    def load(self, file: Path, city: Place | None) -> None:
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        console = console_for(self)
        try:
            result = workdays.calendar_import(actor=SYSTEM, data=file.read_bytes(), filename=file.name, city=city)
        except ImportFailed as exc:
            for error in exc.row_errors:
                console.print(f"[red]✗[/red] {error}")
            raise CommandError(_("未导入：%(count)s 行有错误") % {"count": len(exc.row_errors)}) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        years = ", ".join(str(y) for y in result.years)
        console.print(
            "[green]✓[/green] "
            + _("%(years)s：新增 %(created)s · 更新 %(updated)s · 删除 %(removed)s")
            % {"years": years, "created": result.created, "updated": result.updated, "removed": result.removed}
        )

    def show(self, year: int, city: Place | None) -> None:
        console = console_for(self)
        for warning in workdays.calendar_warnings([year], city):
            console.print(f"[yellow]![/yellow] {warning}")
        days = workdays.calendar_days(year, city=city)
        table = Table(title=f"{year} {city.name if city else _('全国')}")
        table.add_column(_("日期"))
        table.add_column(_("星期"))
        table.add_column(_("类型"))
        table.add_column(_("名称"))
        if city is not None:
            table.add_column(_("来源"))
        for day, local in days:
            cells = [
                day.date.isoformat(),
                formats.date_format(day.date, "D"),
                f"[cyan]{_('工作日')}[/cyan]" if day.is_workday else f"[magenta]{_('休息日')}[/magenta]",
                day.name,
            ]
            if city is not None:
                cells.append(_("本市") if local else _("全国"))
            table.add_row(*cells)
        console.print(table)
        holidays = sum(1 for d, _rest in days if not d.is_workday)
        console.print(
            _("工作日休假 %(holidays)s 天 · 周末调休上班 %(count)s 天")
            % {"holidays": holidays, "count": len(days) - holidays}
        )
