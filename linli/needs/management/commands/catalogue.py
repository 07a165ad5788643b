"""``linli catalogue load-defaults|import|export``: the dispatch catalogue 派单目录.

``load-defaults`` creates or resets the default categories; ``import FILE`` creates or updates
categories from an XLSX or CSV file (all or nothing, errors per row); ``export FILE`` writes the
catalogue as an XLSX in the import format. ``--city CODE`` works on that city's catalogue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM
from linli.core.management.process import console_for
from linli.core.sheets import ImportFailed
from linli.needs.catalogue import catalogue_export_xlsx, catalogue_import, catalogue_load_defaults
from linli.workdays.management.commands.calendar import find_city


class Command(BaseCommand):
    help = "Load the default dispatch catalogue, or import or export it as XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        defaults = actions.add_parser("load-defaults", help="create or reset the default categories")
        load = actions.add_parser("import", help="import categories from an XLSX or CSV file")
        load.add_argument("file", type=Path)
        export = actions.add_parser("export", help="write the catalogue to an XLSX file")
        export.add_argument("file", type=Path)
        for sub in (defaults, load, export):
            sub.add_argument("--city", help="the city's place code (default: the national defaults)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        console = console_for(self)
        city = find_city(options.get("city"))
        try:
            if action == "load-defaults":
                written = catalogue_load_defaults(city=city)
                console.print(_("[green]✓[/green] 写入 %(written)s 个类别") % {"written": written})
            elif action == "import":
                file: Path = options["file"]
                if not file.is_file():
                    raise CommandError(_("文件不存在：%(file)s") % {"file": file})
                result = catalogue_import(actor=SYSTEM, data=file.read_bytes(), filename=file.name, city=city)
                console.print(
                    "[green]✓[/green] "
                    + _("新增 %(created)s · 更新 %(updated)s · 未变 %(unchanged)s")
                    % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
                )
            else:
                target: Path = options["file"]
                target.write_bytes(catalogue_export_xlsx(actor=SYSTEM, city=city))
                console.print("[green]✓[/green] " + _("已导出：%(target)s") % {"target": target})
        except ImportFailed as exc:
            for error in exc.row_errors:
                console.print(f"[red]✗[/red] {error}")
            raise CommandError(_("未导入：%(count)s 行有错误") % {"count": len(exc.row_errors)}) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
