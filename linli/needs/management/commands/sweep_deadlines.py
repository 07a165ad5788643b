"""``linli sweep-deadlines``: run the deadline sweep once, now (the worker runs it every
minute as the ``sweep_deadlines`` task). ``--pause-after-each`` slows a run down so that a
test can kill it half-way and show that every action still happens exactly once."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.needs.deadlines import deadlines_sweep


class Command(BaseCommand):
    help = "Remind of deadlines due soon and escalate overdue needs, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pause-after-each",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="sleep this long after each committed action (for tests that kill a run half-way)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pause: float = options["pause_after_each"]

        def after_each(item: Any) -> None:
            # one line per committed action, flushed at once: a test reads it, then kills us
            self.stdout.write(f"{item.action} {item.deadline} need={item.need_id} dispatch={item.dispatch_id or '-'}")
            self.stdout.flush()
            if pause > 0:
                time.sleep(pause)

        result = deadlines_sweep(after_each=after_each)
        self.stdout.write(
            f"reminded={result.reminded} escalated={result.escalated} closed_unrated={result.closed_unrated}"
        )
