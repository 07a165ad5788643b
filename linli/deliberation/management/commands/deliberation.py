"""``linli deliberation tally FILE.json``: recount a vote from its register and ballots and
print the result as JSON, through the same count as the app (``deliberation.tally``). ``-``
reads standard input. Bad input: a message saying what is wrong, exit code 2."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.deliberation.tally import TallyError, parse, tally

#: A register of a whole city's units fits well under this; anything larger is not a vote.
MAX_BYTES = 64 * 1024 * 1024


class Command(BaseCommand):
    help = "Recount a vote: linli deliberation tally FILE.json (- for standard input)."
    # a recount needs neither the database nor the site's checks: anyone can run it on a file
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        count = commands.add_parser("tally", help="count a register and ballots given as JSON")
        count.add_argument("file", help="the JSON file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            raw = self._read(options["file"])
            try:
                data = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                raise TallyError(
                    _("JSON 格式有误：第 %(line)s 行第 %(column)s 列") % {"line": exc.lineno, "column": exc.colno}
                ) from None
            result = tally(*parse(data))
        except (TallyError, UnicodeDecodeError, OSError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))

    @staticmethod
    def _read(name: str) -> str:
        if name == "-":
            text = sys.stdin.read(MAX_BYTES + 1)
        else:
            path = Path(name)
            if not path.is_file():
                raise TallyError(_("找不到文件：%(name)s") % {"name": name})
            if path.stat().st_size > MAX_BYTES:
                raise TallyError(_("文件太大"))
            text = path.read_text(encoding="utf-8")
        if len(text) > MAX_BYTES:
            raise TallyError(_("文件太大"))
        return text


def _no_constant(name: str) -> Any:
    raise TallyError(_("JSON 中不能有 %(name)s") % {"name": name})
