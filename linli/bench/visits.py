"""``linli bench visits``: a generated street of households with carers and six months of
visits, and the coverage queries timed on it. Figures, never assertions.

The street (20 communities × 5,000 households by default) is written with PostgreSQL ``COPY``
under its own place code, below the services: no audit entries, and, when the database user
may, with ``session_replication_role = replica`` for the load, so that the row-history
triggers (pghistory) and foreign-key checks do not run for generated rows. Every household
has one to three members; about 15 % have a vulnerable member (elderly living alone, disabled,
seriously ill), about 5 % are out by day. Each grid's carers (党员中心户, some 楼栋长) live in
its buildings and care for about ten households each, most of them in their own building;
a few households are left without a carer. Visits go back six months: roughly weekly to
vulnerable households, quarterly to the others, monthly night visits to the out-by-day ones,
with some households never visited and some whose carer stopped coming (overdue). Then
``visits_refresh_care`` fills the kept last-visit times, as after any bulk load.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from linli.bench.gencity import IdBlocks
from linli.bench.needs import Sample, run_repeated
from linli.core.access import SYSTEM, Role
from linli.people.models import Household, HouseholdMember, Membership, Person
from linli.places.models import Place, PlaceKind
from linli.places.services import _base36
from linli.visits import selectors
from linli.visits.models import CareAssignment, HouseholdCare, Visit, VisitKind
from linli.visits.services import visits_refresh_care

DAY = 86400.0
VULNERABILITIES = ("elderly_alone", "elderly_alone", "disabled", "seriously_ill", "low_income")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国秀英志强桂兰海燕丽华明军红梅晓东春花文杰玉珍德胜淑芬永刚凤英国庆金凤子涵浩然思远雨桐"


@dataclass(frozen=True)
class StreetSpec:
    """What to generate: one street of ``communities`` × ``households_per_community``."""

    code: str = "vbench"
    communities: int = 20
    households_per_community: int = 5000
    grids_per_community: int = 10
    households_per_building: int = 24
    households_per_carer: int = 10
    vulnerable: float = 0.15
    out_by_day: float = 0.05
    without_carer: float = 0.02
    never_visited: float = 0.02
    lapsed: float = 0.10
    not_at_home: float = 0.05
    months: int = 6
    seed: int = 1

    @classmethod
    def tiny(cls, code: str = "vtiny") -> StreetSpec:
        return cls(code=code, communities=2, households_per_community=20, grids_per_community=2)


@dataclass
class StreetReport:
    places: int = 0
    households: int = 0
    people: int = 0
    carers: int = 0
    assignments: int = 0
    vulnerable: int = 0
    out_by_day: int = 0
    visits: int = 0
    refreshed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --- generation -----------------------------------------------------------------------------------


class _Copier:
    """Rows per table, written with COPY in one transaction at ``flush``."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]] = {}

    def add(self, table: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, (columns, []))[1].append(row)

    def flush(self) -> int:
        raw = connection.connection
        assert raw is not None
        written = 0
        with raw.cursor() as cursor:
            for table, (columns, rows) in self.rows.items():
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                written += len(rows)
        self.rows = {}
        return written


def _quiet_triggers() -> None:
    """Skip row-history triggers and foreign-key checks for the generated rows, when the
    database user may (a superuser, as on the embedded server); otherwise they just run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


PLACE_COLUMNS = ("id", "path", "depth", "numchild", "code", "name", "name_search", "kind")
PERSON_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "name",
    "name_search",
    "name_pinyin",
    "phone",
    "document_kind",
    "id_number_encrypted",
    "id_number_digest",
    "id_number_masked",
    "sex",
    "vulnerabilities",
    "party_kind",
    "party_unit",
    "is_veteran",
    "is_volunteer",
    "place_id",
)
VISIT_COLUMNS = (
    "id",
    "place_path",
    "kind",
    "visited_at",
    "recorded_at",
    "met_other",
    "heard",
    "tags",
    "policy_topic",
    "needs_help",
    "not_at_home",
    "refused",
    "photo",
    "client_key",
    "household_id",
    "visitor_id",
)


def street_exists(code: str) -> bool:
    return Place.objects.filter(code=code).exists()


def gen_street(
    spec: StreetSpec, *, now: dt.datetime | None = None, progress: Callable[[str, int, int], None] | None = None
) -> StreetReport:
    """Generate the street under a new city of code ``spec.code`` (which must not exist), then
    refresh the kept last-visit times and ANALYZE. ``progress(phase, done, total)`` is called as
    communities are written."""
    now = now or timezone.now()
    rng = random.Random(spec.seed)  # noqa: S311 (generated data, not secrets)
    report = StreetReport()
    ids = {name: IdBlocks(table) for name, table in _TABLES.items()}
    started = time.perf_counter()
    with transaction.atomic():
        _quiet_triggers()
        copier = _Copier()
        last_root = Place.objects.filter(depth=1).order_by("-path").values_list("path", flat=True).first()
        root_index = int(last_root, 36) + 1 if last_root else 1

        def place(parent_path: str, index: int, code: str, name: str, kind: str, children: int) -> tuple[int, str]:
            pk = ids["place"].take()
            path = parent_path + _base36(index).rjust(Place.steplen, "0")
            copier.add(
                "places_place",
                PLACE_COLUMNS,
                (pk, path, len(path) // Place.steplen, children, code, name, name, kind),
            )
            report.places += 1
            return pk, path

        _, city = place("", root_index, spec.code, f"基准市{spec.code}", PlaceKind.CITY, 1)
        _, district = place(city, 1, f"{spec.code}-d1", "基准区", PlaceKind.DISTRICT, 1)
        _, street = place(district, 1, f"{spec.code}-s1", "基准街道", PlaceKind.STREET, spec.communities)
        copier.flush()
        for c in range(1, spec.communities + 1):
            _community(spec, rng, copier, ids, place, street, c, now, report)
            if progress is not None:
                progress("communities", c, spec.communities)
    report.seconds["copy"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Place, Household, Person, HouseholdMember, Membership, CareAssignment, HouseholdCare, Visit):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    report.seconds["analyze"] = time.perf_counter() - started
    started = time.perf_counter()
    report.refreshed = visits_refresh_care()
    report.seconds["refresh_care"] = time.perf_counter() - started
    return report


_TABLES = {
    "place": Place._meta.db_table,
    "household": Household._meta.db_table,
    "person": Person._meta.db_table,
    "member": HouseholdMember._meta.db_table,
    "membership": Membership._meta.db_table,
    "assignment": CareAssignment._meta.db_table,
    "visit": Visit._meta.db_table,
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _community(
    spec: StreetSpec,
    rng: random.Random,
    copier: _Copier,
    ids: dict[str, IdBlocks],
    place: Callable[[str, int, str, str, str, int], tuple[int, str]],
    street: str,
    c: int,
    now: dt.datetime,
    report: StreetReport,
) -> None:
    """One community: its grids, buildings, households with members, carers with their
    assignments, and the visits of the last months. One COPY per table."""
    code = f"{spec.code}-c{c}"
    per_grid = _split(spec.households_per_community, spec.grids_per_community)
    _, community = place(street, c, code, f"基准第{c}社区", PlaceKind.COMMUNITY, len(per_grid))
    stamp = now - dt.timedelta(days=spec.months * 31 + 30)
    for g, grid_households in enumerate(per_grid, start=1):
        per_building = _split(grid_households, math.ceil(grid_households / spec.households_per_building))
        _, grid = place(community, g, f"{code}-g{g}", f"第{g}网格", PlaceKind.GRID, len(per_building))
        households: list[_Home] = []
        for b, count in enumerate(per_building, start=1):
            building_id, building = place(grid, b, f"{code}-g{g}-b{b}", f"{b}栋", PlaceKind.BUILDING, count)
            for h in range(count):
                floor, door = divmod(h, 4)
                room = f"{floor + 1}0{door + 1}"
                place_id, path = place(building, h + 1, f"{code}-g{g}-b{b}-{room}", f"{room}室", PlaceKind.HOUSEHOLD, 0)
                household_id = ids["household"].take()
                copier.add(
                    "people_household",
                    ("id", "created_at", "updated_at", "tenure", "note", "place_id"),
                    (household_id, stamp, stamp, "owner", "", place_id),
                )
                head, vulnerable, out = _members(spec, rng, copier, ids, household_id, place_id, stamp, report)
                households.append(_Home(household_id, path, head, building_id, vulnerable, out))
        report.households += len(households)
        carers = _carers(spec, rng, copier, ids, households, stamp, report)
        _visits(spec, rng, copier, ids, households, carers, now, report)
    report.visits += len(copier.rows.get(Visit._meta.db_table, ((), []))[1])
    copier.flush()


def _split(total: int, parts: int) -> list[int]:
    parts = max(1, parts)
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts) if base + (1 if i < extra else 0)]


@dataclass(frozen=True)
class _Home:
    household_id: int
    path: str
    head: int
    building_id: int
    vulnerable: bool
    out_by_day: bool


def _members(
    spec: StreetSpec,
    rng: random.Random,
    copier: _Copier,
    ids: dict[str, IdBlocks],
    household_id: int,
    place_id: int,
    stamp: dt.datetime,
    report: StreetReport,
) -> tuple[int, bool, bool]:
    """The household's members (the first one carries the vulnerability mark) and its care
    row: (head person id, vulnerable, out by day)."""
    vulnerable = rng.random() < spec.vulnerable
    out = rng.random() < spec.out_by_day
    report.vulnerable += vulnerable
    report.out_by_day += out
    count = rng.choice((1, 2, 2, 3)) if not vulnerable else rng.choice((1, 1, 2))
    head = 0
    for n in range(count):
        person_id = ids["person"].take()
        marks = [rng.choice(VULNERABILITIES)] if vulnerable and n == 0 else []
        name = _name(rng)
        copier.add(
            "people_person",
            PERSON_COLUMNS,
            (
                person_id,
                stamp,
                stamp,
                name,
                name,
                "",
                f"+86139{rng.randrange(10**8):08d}" if rng.random() < 0.6 else "",
                "resident_id",
                "",
                "",
                "",
                rng.choice("MF"),
                marks,
                "",
                "",
                False,
                False,
                place_id,
            ),
        )
        copier.add(
            "people_householdmember",
            ("id", "created_at", "updated_at", "relation", "household_id", "person_id"),
            (
                ids["member"].take(),
                stamp,
                stamp,
                "head" if n == 0 else "spouse" if n == 1 else "child",
                household_id,
                person_id,
            ),
        )
        head = head or person_id
        report.people += 1
    copier.add(
        "visits_householdcare",
        ("household_id", "out_by_day"),
        (household_id, out),
    )
    return head, vulnerable, out


def _carers(
    spec: StreetSpec,
    rng: random.Random,
    copier: _Copier,
    ids: dict[str, IdBlocks],
    households: list[_Home],
    stamp: dt.datetime,
    report: StreetReport,
) -> dict[int, int]:
    """The grid's carers: the head of the first household of each run of about ten households
    (so a carer mostly cares for their own building), with a carer role at their building.
    Returns household id → carer person id for the households given a carer."""
    given: dict[int, int] = {}
    for start in range(0, len(households), spec.households_per_carer):
        group = households[start : start + spec.households_per_carer]
        carer = group[0].head
        building_id = group[0].building_id
        role = Role.CENTRAL_HOUSEHOLD if rng.random() < 0.8 else Role.BUILDING_LEADER
        copier.add(
            "people_membership",
            ("id", "created_at", "updated_at", "role", "place_id", "person_id"),
            (ids["membership"].take(), stamp, stamp, role, building_id, carer),
        )
        report.carers += 1
        for home in group:
            if rng.random() < spec.without_carer:
                continue
            copier.add(
                "visits_careassignment",
                ("id", "place_path", "started_at", "end_reason", "carer_id", "household_id"),
                (ids["assignment"].take(), home.path, stamp, "", carer, home.household_id),
            )
            given[home.household_id] = carer
            report.assignments += 1
    return given


def _visits(
    spec: StreetSpec,
    rng: random.Random,
    copier: _Copier,
    ids: dict[str, IdBlocks],
    households: list[_Home],
    carers: dict[int, int],
    now: dt.datetime,
    report: StreetReport,
) -> None:
    """Visits over the last ``spec.months`` months: weekly (± 2 days) to vulnerable households,
    every 60–100 days to the others, monthly night visits to those out by day. Some households
    are never visited; some stop being visited part-way (their carer lapsed: overdue)."""
    end = now.timestamp() - 3600
    start = end - spec.months * 30.5 * DAY
    fallback = next(iter(carers.values()), None)
    for home in households:
        household_id, path = home.household_id, home.path
        visitor = carers.get(household_id, fallback)
        if visitor is None or rng.random() < spec.never_visited:
            continue
        stop = end - rng.uniform(20, 120) * DAY if rng.random() < spec.lapsed else end
        plans = [(VisitKind.KNOCK, 7.0, 2.0) if home.vulnerable else (VisitKind.KNOCK, 80.0, 20.0)]
        if home.out_by_day:
            plans.append((VisitKind.NIGHT, 30.0, 5.0))
        for kind, every, jitter in plans:
            at = start + rng.uniform(0, every) * DAY
            while at < stop:
                visited = dt.datetime.fromtimestamp(at, dt.UTC)
                copier.add(
                    Visit._meta.db_table,
                    VISIT_COLUMNS,
                    (
                        ids["visit"].take(),
                        path,
                        kind,
                        visited,
                        visited + dt.timedelta(minutes=rng.randrange(1, 240)),
                        "",
                        "",
                        [],
                        "",
                        False,
                        rng.random() < spec.not_at_home,
                        False,
                        "",
                        "",
                        household_id,
                        visitor,
                    ),
                )
                at += max(1.0, every + rng.uniform(-jitter, jitter)) * DAY


# --- timing ---------------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    fn: Callable[[], Sequence[Any]]


def street_cases(street: Place) -> list[Case]:
    """The coverage reads timed by ``linli bench visits``, as the system (``actor=SYSTEM``) and,
    for the community list, as a community staff member (the scope included)."""
    community = Place.objects.filter(path__startswith=street.path, kind=PlaceKind.COMMUNITY).order_by("path").first()
    assert community is not None
    grid = Place.objects.filter(path__startswith=community.path, kind=PlaceKind.GRID).order_by("path").first()
    assert grid is not None
    staff = _staff(community)

    return [
        Case("coverage_rows community (all rows)", lambda: selectors.coverage_rows(actor=SYSTEM, place=community)),
        Case(
            "coverage_rows community, first page of 50",
            lambda: selectors.coverage_rows(actor=SYSTEM, place=community, limit=50),
        ),
        Case(
            "coverage_rows community, page of 50, as staff",
            lambda: selectors.coverage_rows(actor=staff, place=community, limit=50),
        ),
        Case(
            "coverage_summary street by community",
            lambda: selectors.coverage_summary(actor=SYSTEM, place=street, by="child"),
        ),
        Case(
            "coverage_summary community by carer",
            lambda: selectors.coverage_summary(actor=SYSTEM, place=community, by="carer"),
        ),
        Case(
            "coverage_summary community by grid",
            lambda: selectors.coverage_summary(actor=SYSTEM, place=community, by="child"),
        ),
        Case("coverage_rows grid (all rows)", lambda: selectors.coverage_rows(actor=SYSTEM, place=grid)),
        Case(
            "coverage_rows grid, first page of 50", lambda: selectors.coverage_rows(actor=SYSTEM, place=grid, limit=50)
        ),
        Case(
            "coverage_summary grid by carer", lambda: selectors.coverage_summary(actor=SYSTEM, place=grid, by="carer")
        ),
        Case(
            "coverage_summary grid by building",
            lambda: selectors.coverage_summary(actor=SYSTEM, place=grid, by="child"),
        ),
    ]


def _staff(community: Place) -> Any:
    from linli.accounts.models import User

    username = f"bench-{community.code}-staff"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=None, display_name=username)
        person = Person.objects.create(place=community, name="基准社区工作人员", user=user)
        Membership.objects.create(person=person, place=community, role=Role.COMMUNITY_STAFF)
    return user


def run_cases(cases: Iterable[Case], *, runs: int) -> list[tuple[Sample, int]]:
    """Each case once to warm up, then ``runs`` times: the samples and the rows returned."""
    results = []
    for case in cases:
        rows = len(case.fn())
        results.append((run_repeated(case.label, case.fn, runs=runs), rows))
    return results


def p95(sample: Sample) -> float:
    return sample.pct(0.95)


def street_scale(street: Place) -> dict[str, int]:
    like = street.path + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE ca.id IS NOT NULL),
                       count(*) FILTER (WHERE hc.out_by_day)
                  FROM {Household._meta.db_table} h
                  JOIN {Place._meta.db_table} p ON p.id = h.place_id
                  LEFT JOIN {CareAssignment._meta.db_table} ca ON ca.household_id = h.id AND ca.ended_at IS NULL
                  LEFT JOIN {HouseholdCare._meta.db_table} hc ON hc.household_id = h.id
                 WHERE p.path LIKE %s""",  # noqa: S608 (table names only)
            [like],
        )
        households, assigned, out = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {Visit._meta.db_table} WHERE place_path LIKE %s", [like])  # noqa: S608
        (visits,) = cursor.fetchone()
    return {
        "communities": Place.objects.filter(path__startswith=street.path, kind=PlaceKind.COMMUNITY).count(),
        "households": households,
        "with a carer": assigned,
        "out by day": out,
        "visits": visits,
        "visits (whole database)": Visit.objects.count(),
    }


def explain(street: Place) -> str:
    """EXPLAIN ANALYZE of the community list (the heaviest single read), for the report."""
    community = Place.objects.filter(path__startswith=street.path, kind=PlaceKind.COMMUNITY).order_by("path").first()
    assert community is not None
    built = selectors._coverage_sql(actor=SYSTEM, place=community)
    assert built is not None
    cte, params = built
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {cte} SELECT * FROM cov", params)  # noqa: S608
        return "\n".join(r[0] for r in cursor.fetchall())


def street_drop(code: str) -> None:
    """Drop a generated street (city ``code``) and everything written under it, past the
    visits' append-only trigger. For generated data only."""
    from linli.accounts.models import User

    city = Place.objects.filter(code=code, kind=PlaceKind.CITY).first()
    if city is None:
        return
    like = city.path + "%"
    place_ids = f"SELECT id FROM {Place._meta.db_table} WHERE path LIKE %s"  # noqa: S608 (constants only)
    household_ids = f"SELECT id FROM {Household._meta.db_table} WHERE place_id IN ({place_ids})"  # noqa: S608
    person_ids = f"SELECT id FROM {Person._meta.db_table} WHERE place_id IN ({place_ids})"  # noqa: S608
    users = list(Person.objects.filter(place__path__startswith=city.path, user__isnull=False).values_list("user_id"))
    with transaction.atomic():
        _quiet_triggers()
        with connection.cursor() as cursor:
            tables: list[tuple[type[models.Model], str]] = [
                (Visit, "place_path LIKE %s"),
                (CareAssignment, "place_path LIKE %s"),
                (HouseholdCare, f"household_id IN ({household_ids})"),
                (HouseholdMember, f"household_id IN ({household_ids})"),
                (Membership, f"person_id IN ({person_ids})"),
                (Person, f"place_id IN ({place_ids})"),
                (Household, f"place_id IN ({place_ids})"),
                (Place, "path LIKE %s"),
            ]
            for model, where in tables:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {where}", [like])  # noqa: S608
        User.objects.filter(pk__in=[u for (u,) in users]).delete()
