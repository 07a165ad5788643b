"""``linli import-places FILE.xlsx|csv``: import or update the place tree from a file.

Every row is checked first; with any bad row nothing is imported and each error is printed
with its line number (Chinese and English). Exit status 1 on errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM
from linli.core.management.process import console_for, progress_bar
from linli.core.sheets import ImportFailed
from linli.places.services import place_import


class Command(BaseCommand):
    help = "Import places (one row per node, with its parent's code) from an XLSX or CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        console = console_for(self)
        with progress_bar(console) as progress:
            task = progress.add_task(_("导入"), total=None)

            def advance(done: int, total: int, phase: str = "writing") -> None:
                progress.update(task, completed=done, total=total or None)

            try:
                result = place_import(actor=SYSTEM, data=file.read_bytes(), filename=file.name, progress=advance)
            except ImportFailed as exc:
                for error in exc.row_errors:
                    console.print(f"[red]✗[/red] {error}")
                raise CommandError(_("未导入：%(count)s 行有错误") % {"count": len(exc.row_errors)}) from exc
        console.print(
            "[green]✓[/green] "
            + _("新增 %(created)s · 更新 %(updated)s · 未变 %(unchanged)s")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )
