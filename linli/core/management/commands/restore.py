"""``linli restore FOLDER --yes``: put a backup back (the database in one transaction, then the
uploaded files). Everything written since the backup is lost: it asks for ``--yes``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.core.backup import BackupError, restore
from linli.core.management.process import console_for, hold_database, with_progress


class Command(BaseCommand):
    help = "Restore a backup made by linli backup (replaces the database and the uploaded files)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--yes", action="store_true", help="yes, replace everything written since the backup")

    def handle(self, *args: Any, folder: Path, yes: bool, **options: Any) -> None:
        if not yes:
            raise CommandError(_("恢复会替换备份之后写入的一切数据；确认请加 --yes"))
        hold_database()
        console = console_for(self)
        try:
            manifest = with_progress(console, _("恢复"), lambda progress: restore(folder, progress=progress))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        console.print(
            "[green]✓[/green] "
            + _("已恢复 %(made_at)s 的备份：%(tables)s 张表，%(files)s 个文件")
            % {
                "made_at": manifest.get("made_at", ""),
                "tables": len(manifest.get("tables", {})),
                "files": manifest.get("files", 0),
            }
        )
