"""``linli bench places|needs|visits``: figures, not assertions (speed targets live here, not in
unit tests).

``places`` times the scoped reads everything else stands on, on the demo data: p50/p95 in
milliseconds over ``--runs`` repetitions (after one warm-up) for computing an actor's scope,
a street official's first page of people, a subtree count, the community list with
household and people counts, and a simplified/traditional-insensitive name search.

``needs`` runs on a generated city (``linli gen-city``) and prints the machine and the scale,
then intake over HTTP beside bare inserts, the workbench queue and Open311 reads at 50
concurrent clients, and the three rates from the roll-ups beside a recomputation
(``linli.bench.needs``).

``faults`` runs a mixed load against a site of its own and injects faults in turn (a killed
web worker, a job worker killed mid-sweep, a PostgreSQL restart and stop), then reports lost
writes, duplicates, 5xx other than 503 and recovery times (``linli.bench.faults``).

``tally`` counts a vote of 5,000 households and an owners' vote of 3,000 units under art. 278
through ``deliberation.tally``, beside the law written with fractions in the same run
(``linli.bench.tally``); it needs no database.

``visits`` generates a street of households, carers and six months of visits in the current
database (``LINLI_DB_NAME``) unless it is there, then times the coverage list and summaries
for a street, a community and a grid (``linli.bench.visits``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from linli.accounts.models import User
from linli.core.access import forget_scope, scope_for
from linli.core.management.process import console_for
from linli.people.selectors import person_list
from linli.places.models import Place, PlaceKind
from linli.places.selectors import place_list, with_counts


class Command(BaseCommand):
    help = (
        "Benchmark the scoped reads on the demo data (places), a generated city's needs (needs), a "
        "generated street's visit coverage (visits), or survival of faults under load (faults)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("suite", choices=["places", "needs", "visits", "faults", "tally"])
        parser.add_argument("--runs", type=int, default=None, help="repetitions (places: 50; needs' rates: 20)")
        parser.add_argument("--city-code", default="gen", help="needs: the generated city (linli gen-city)")
        parser.add_argument("--quick", action="store_true", help="needs: tiny numbers (tests)")
        parser.add_argument("--intake", type=int, default=200, help="needs: needs posted per intake case")
        parser.add_argument("--requests", type=int, default=500, help="needs: requests per read case")
        parser.add_argument(
            "--clients",
            type=int,
            default=None,
            help="needs: concurrent clients for reads (50); faults: of the load (10)",
        )
        parser.add_argument(
            "--in-process", action="store_true", help="needs: Django's test Client in this process, no server"
        )
        parser.add_argument("--street-code", default="vbench", help="visits: the generated street's city code")
        parser.add_argument("--communities", type=int, default=20, help="visits: communities in the street")
        parser.add_argument("--households", type=int, default=5000, help="visits: households per community")
        parser.add_argument("--regenerate", action="store_true", help="visits: drop and generate the street again")
        parser.add_argument(
            "--explain", action="store_true", help="visits: print EXPLAIN ANALYZE of the community list"
        )
        parser.add_argument("--rounds", type=int, default=3, help="faults: rounds of every fault")
        parser.add_argument(
            "--stop-seconds", type=float, default=30.0, help="faults: how long PostgreSQL stays stopped"
        )
        parser.add_argument("--backlog", type=int, default=300, help="faults: overdue needs for each killed sweep")
        parser.add_argument("--settle", type=float, default=3.0, help="faults: seconds of plain load between faults")
        parser.add_argument("--keep", action="store_true", help="faults: keep the cluster and the logs")
        parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, suite: str, runs: int | None, **options: Any) -> None:
        if suite == "tally":
            self.tally(runs=runs or 20, quick=options["quick"])
            return
        if suite == "needs":
            self.needs(runs=runs, **options)
            return
        if suite == "visits":
            self.visits(runs=runs or 20, **options)
            return
        if suite == "faults":
            self.faults(**options)
            return
        runs = runs or 50
        street = User.objects.filter(username="street").first()
        hanxing = Place.objects.filter(code="hanxing").first()
        if street is None or hanxing is None:
            raise CommandError(_("先加载演示数据"))
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
            for _round in range(runs):
                started = time.perf_counter()
                fn()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            rows = len(result) if isinstance(result, list) else result if isinstance(result, int) else "—"
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            table.add_row(label, f"{statistics.median(timings):.2f}", f"{p95:.2f}", str(rows))
        console.print(table)

    def faults(
        self,
        *,
        rounds: int,
        clients: int | None,
        stop_seconds: float,
        backlog: int,
        settle: float,
        keep: bool,
        inside: bool,
        **options: Any,
    ) -> None:
        """The fault suite (``linli.bench.faults``): outside, a cluster of its own; inside, the run."""
        from django.conf import settings

        from linli.bench import faults

        if settings.DATABASES["default"]["ENGINE"] != "linli.core.pgembedded":
            raise CommandError(_("故障演练需要内置数据库（它会自行停止和启动 PostgreSQL）：请不要设置 DATABASE_URL"))
        console = console_for(self)
        clients = clients or 10
        if not inside or not os.environ.get("LINLI_FAULTS_INSIDE"):
            args = [
                f"--rounds={rounds}",
                f"--clients={clients}",
                f"--stop-seconds={stop_seconds}",
                f"--backlog={backlog}",
                f"--settle={settle}",
            ]
            code = faults.run_outside(args=args, keep=keep, say=console.print)
            if code:
                raise CommandError(_("故障演练未达到目标（退出代码 %(code)s）") % {"code": code})
            return
        report = faults.run_inside(
            rounds=rounds,
            clients=clients,
            stop_seconds=stop_seconds,
            backlog=backlog,
            settle=settle,
            say=lambda text: console.print(f"· {text}"),
        )
        console.print(faults.render(report), markup=False, highlight=False)
        if not report.goals_met():
            raise CommandError(_("故障演练未达到目标"))

    def needs(self, *, runs: int | None, city_code: str, quick: bool, in_process: bool, **options: Any) -> None:
        from linli.bench import needs as b

        city = Place.objects.filter(code=city_code, kind=PlaceKind.CITY).first()
        if city is None:
            raise CommandError(_("先生成城市：linli gen-city --city-code %(city_code)s") % {"city_code": city_code})
        console = console_for(self)
        sizes = (
            b.Sizes.quick()
            if quick
            else b.Sizes(intake=options["intake"], requests=options["requests"], clients=options["clients"] or 50)
        )
        if runs:
            sizes = dataclasses.replace(sizes, runs=runs)
        if in_process:
            sizes = dataclasses.replace(sizes, clients=1, intake_clients=1)
        _pairs(console, "machine", b.machine().items())
        _pairs(console, "scale", ((k, f"{v:,}") for k, v in b.scale(city).items()))
        accounts = b.bench_accounts(city)
        users = {"resident": accounts.resident, "staff": accounts.staff}
        if in_process:
            self._needs_run(console, b.InProcessCaller(users), accounts, sizes, city, concurrent=False)
        else:
            with b.Server(workers=2) as server:
                self._needs_run(console, b.HttpCaller(server.port, users), accounts, sizes, city, concurrent=True)
        load = os.getloadavg()
        console.print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    def _needs_run(
        self, console: Console, caller: Any, accounts: Any, sizes: Any, city: Place, *, concurrent: bool
    ) -> None:
        from linli.bench import needs as b

        console.print(f"requests: {caller.description}")
        intake = b.bench_intake(caller, accounts, sizes, concurrent=concurrent)
        table = _samples_table(f"intake · {sizes.intake} needs per case", [*intake.http, *intake.bare])
        console.print(table)
        for http, bare in zip(intake.http, intake.bare, strict=True):
            ratio = http.rate / bare.rate if bare.rate else float("nan")
            console.print(f"  intake/bare ({http.label.rsplit(', ', 1)[-1]}): {ratio:.1%}  (target ≥ 50 %)")
        reads = b.bench_reads(caller, accounts, sizes)
        console.print(
            _samples_table(f"workbench queue and Open311 · {sizes.requests} requests, {sizes.clients} clients", reads)
        )
        console.print("  target: p99 ≤ 100 ms")
        console.print(
            _samples_table(
                f"three rates · {sizes.runs} runs (recompute: {sizes.recompute_runs})", b.bench_rates(city, sizes)
            )
        )
        console.print("  target: three rates ≤ 150 ms")

    def tally(self, *, runs: int, quick: bool) -> None:
        from linli.bench.tally import measure

        sizes = {"households_n": 50, "units_n": 30} if quick else {}
        table = Table(title=f"linli bench tally · {runs} runs")
        for column in ("vote", "ballots", "tally p50 ms", "tally p95 ms", "law (fractions) p50 ms", "passed", "agree"):
            table.add_column(column, justify="left" if column == "vote" else "right")
        for row in measure(runs=runs, **sizes):
            table.add_row(
                row.label,
                f"{row.ballots:,}",
                f"{row.tally_p50_ms:.2f}",
                f"{row.tally_p95_ms:.2f}",
                f"{row.law_p50_ms:.2f}",
                str(row.passed),
                str(row.agree),
            )
        console_for(self).print(table)

    def visits(
        self,
        *,
        runs: int,
        street_code: str,
        communities: int,
        households: int,
        regenerate: bool,
        explain: bool,
        **options: Any,
    ) -> None:
        """Generate the street of households and visits if it is not there (``--regenerate``
        drops it first), then time the coverage reads (``linli.bench.visits``)."""
        from django.db import connection

        from linli.bench import needs as nb
        from linli.bench import visits as b
        from linli.core.management.process import progress_bar

        if min(communities, households, runs) < 1:
            raise CommandError(_("规模和次数至少为 1"))
        if Place.objects.filter(code=street_code).exclude(kind=PlaceKind.CITY).exists():
            raise CommandError(_("地点编码「%(street_code)s」已被占用") % {"street_code": street_code})
        console = console_for(self)
        console.print(f"database: {connection.settings_dict['NAME']}")
        if "visits_visit" not in connection.introspection.table_names():
            from django.core.management import call_command

            with console.status(_("迁移数据库")):
                call_command("migrate", verbosity=0)
        city = Place.objects.filter(code=street_code, kind=PlaceKind.CITY).first()
        if city is not None and regenerate:
            with console.status(_("删除旧数据")):
                b.street_drop(street_code)
            city = None
        if city is None:
            spec = b.StreetSpec(code=street_code, communities=communities, households_per_community=households)
            console.print(
                f"generating street [bold]{spec.code}[/]: {spec.communities} communities × "
                f"{spec.households_per_community:,} households, {spec.months} months of visits (seed {spec.seed})"
            )
            started = time.perf_counter()
            with progress_bar(console) as bar:
                task = bar.add_task(_("社区"), total=spec.communities)
                report = b.gen_street(spec, progress=lambda _phase, done, total: bar.update(task, completed=done))
            s = report.seconds
            console.print(
                f"{report.places:,} places, {report.households:,} households, {report.people:,} people, "
                f"{report.carers:,} carers, {report.assignments:,} assignments, {report.visits:,} visits: "
                f"COPY {s['copy']:.1f} s, ANALYZE {s['analyze']:.1f} s, visits_refresh_care "
                f"{report.refreshed:,} rows in {s['refresh_care']:.1f} s; total {time.perf_counter() - started:.1f} s"
            )
            city = Place.objects.get(code=street_code, kind=PlaceKind.CITY)
        street = Place.objects.filter(path__startswith=city.path, kind=PlaceKind.STREET).order_by("path").first()
        if street is None:
            raise CommandError(_("「%(street_code)s」下没有街道") % {"street_code": street_code})
        _pairs(console, "machine", nb.machine().items())
        _pairs(console, "scale", ((k, f"{v:,}") for k, v in b.street_scale(street).items()))
        table = Table(title=f"linli bench visits · {runs} runs")
        for column in ("case", "p50 ms", "p95 ms", "rows"):
            table.add_column(column, justify="right" if column != "case" else "left")
        for sample, rows in b.run_cases(b.street_cases(street), runs=runs):
            table.add_row(sample.label, f"{sample.p50:.1f}", f"{b.p95(sample):.1f}", f"{rows:,}")
        console.print(table)
        if explain:
            console.print(b.explain(street), markup=False)
        load = os.getloadavg()
        console.print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _pairs(console: Console, title: str, rows: Any) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)


def _samples_table(title: str, samples: Sequence[Any]) -> Table:
    table = Table(title=title)
    for column in ("case", "n", "p50 ms", "p99 ms", "per s", "errors"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for s in samples:
        table.add_row(s.label, str(len(s.ms)), f"{s.p50:.1f}", f"{s.p99:.1f}", f"{s.rate:.1f}", str(s.errors))
    return table
