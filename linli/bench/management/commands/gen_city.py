"""``linli gen-city``: fill the database with a generated city for benchmarks.

    linli gen-city --communities 20 --grids-per-community 8 --households-per-grid 300 \\
        --needs 100000 --years 3 --seed 1 [--city-code gen] [--reset]

Builds city → districts → streets → communities → grids → buildings → households under the
code prefix, seven departments per district with a liaison each, and the needs with their
timelines, dispatches and ratings (COPY, in chunks), then rebuilds the roll-ups of the three
rates. Use a database of its own: ``LINLI_DB_NAME=bench linli migrate`` first.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.bench.gencity import CityExists, CitySpec, gen_city
from linli.core.management.process import console_for, progress_bar


class Command(BaseCommand):
    help = "Generate a city with many needs and their timelines (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--communities", type=int, default=20)
        parser.add_argument("--grids-per-community", type=int, default=8)
        parser.add_argument("--households-per-grid", type=int, default=300)
        parser.add_argument("--needs", type=int, default=100_000)
        parser.add_argument("--years", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--city-code", default="gen")
        parser.add_argument("--reset", action="store_true", help="drop the generated city of this code first")

    def handle(self, *args: Any, **options: Any) -> None:
        spec = CitySpec(
            code=options["city_code"],
            communities=options["communities"],
            grids_per_community=options["grids_per_community"],
            households_per_grid=options["households_per_grid"],
            needs=options["needs"],
            years=options["years"],
            seed=options["seed"],
        )
        if min(spec.communities, spec.grids_per_community, spec.households_per_grid, spec.years) < 1:
            raise CommandError(_("规模至少为 1"))
        if not 0 <= spec.needs <= 10_000_000:
            raise CommandError("--needs must be between 0 and 10,000,000")
        console = console_for(self)
        console.print(
            f"city [bold]{spec.code}[/]: {spec.districts} districts, {spec.streets} streets, "
            f"{spec.communities} communities × {spec.grids_per_community} grids × "
            f"{spec.households_per_grid} households; {spec.needs:,} needs over {spec.years} years (seed {spec.seed})"
        )
        started = time.perf_counter()
        try:
            with progress_bar(console) as bar:
                task = bar.add_task("needs 诉求", total=spec.needs)
                report = gen_city(spec, reset=options["reset"], progress=lambda n: bar.advance(task, n))
        except CityExists as exc:
            raise CommandError(_("地点编码「%(exc)s」已存在") % {"exc": exc}) from exc
        total = time.perf_counter() - started
        s = report.seconds
        console.print(
            f"tree: {report.places:,} places, {report.households:,} households, "
            f"{report.departments} departments in {s['tree']:.1f} s"
        )
        console.print(
            f"needs: {report.needs:,} needs, {report.events:,} events, {report.reporters:,} reporters, "
            f"{report.dispatches:,} dispatches, {report.ratings:,} ratings in {s['needs']:.1f} s "
            f"({report.rows / max(s['needs'], 1e-9):,.0f} rows/s, {report.needs / max(s['needs'], 1e-9):,.0f} needs/s)"
        )
        console.print(f"analyze: {s['analyze']:.1f} s")
        console.print(f"rollup_rebuild: {report.rollups:,} roll-up rows in {s['rollup_rebuild']:.1f} s")
        console.print(f"total: {total:.1f} s")
