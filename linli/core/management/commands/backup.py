"""``linli backup [--to DIR]``: the database and the uploaded files into a new backup folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.core.backup import BackupError, backup
from linli.core.management.process import console_for, hold_database, with_progress


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into a new folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=Path, default=None, help="where to put the backup (var/backups)")

    def handle(self, *args: Any, to: Path | None, **options: Any) -> None:
        hold_database()
        console = console_for(self)
        target = to or Path(settings.ROOT_DIR) / "var" / "backups"
        try:
            done = with_progress(console, _("备份"), lambda progress: backup(target, progress=progress))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        console.print(
            "[green]✓[/green] "
            + _("已备份到 %(folder)s：%(tables)s 张表 %(rows)s 行，%(files)s 个文件")
            % {"folder": done.folder, "tables": done.tables, "rows": done.rows, "files": done.files}
        )
