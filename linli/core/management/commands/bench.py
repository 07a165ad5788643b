"""``linli bench places``: time the scoped reads everything else stands on, on the demo data.

Prints p50/p95 in milliseconds over ``--runs`` repetitions (after one warm-up) for: computing
an actor's scope, a street official's first page of people, a subtree count, the community
list with household and people counts, and a simplified/traditional-insensitive name search.
Figures, not assertions: speed targets live here, not in unit tests.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.table import Table

from linli.accounts.models import User
from linli.core.management.process import console_for
from linli.people.permissions import forget_scope, scope_for
from linli.people.selectors import person_list
from linli.places.models import Place, PlaceKind
from linli.places.selectors import place_list, with_counts


class Command(BaseCommand):
    help = "Benchmark the scoped place and people reads on the demo data (prints p50/p95 in ms)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("suite", choices=["places"])
        parser.add_argument("--runs", type=int, default=50)

    def handle(self, *args: Any, suite: str, runs: int, **options: Any) -> None:
        street = User.objects.filter(username="street").first()
        hanxing = Place.objects.filter(code="hanxing").first()
        if street is None or hanxing is None:
            raise CommandError("先加载演示数据 / load the demo first: linli load-demo")
        console = console_for(self)

        def scope() -> object:
            forget_scope(street)
            return scope_for(street)

        cases: list[tuple[str, Callable[[], object]]] = [
            ("scope of an actor (1 query)", scope),
            ("people page 1 of 50, street official", lambda: list(person_list(actor=street)[:50])),
            ("people visible to the street official: count", lambda: person_list(actor=street).count()),
            ("Hanxing subtree: count", lambda: Place.objects.filter(path__startswith=hanxing.path).count()),
            (
                "20 communities with household/people counts",
                lambda: list(with_counts(place_list(actor=street, parent=hanxing, kind=PlaceKind.COMMUNITY))),
            ),
            ("name search 張 (traditional) → 张", lambda: list(person_list(actor=street, q="張")[:50])),
        ]
        table = Table(title=f"linli bench {suite} · {runs} runs")
        for column in ("case", "p50 ms", "p95 ms", "rows"):
            table.add_column(column, justify="right" if column != "case" else "left")
        for label, fn in cases:
            result = fn()  # warm-up
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                fn()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            rows = len(result) if isinstance(result, list) else result if isinstance(result, int) else "—"
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            table.add_row(label, f"{statistics.median(timings):.2f}", f"{p95:.2f}", str(rows))
        console.print(table)
