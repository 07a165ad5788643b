"""The three rates 响应率、解决率、满意率: incremental roll-ups, reads and recomputation.

Every need event that counts adds to the :class:`~linli.needs.models.RateRollup` rows of its
day (Asia/Shanghai) in the writing transaction (:func:`rollup_event`): one row per place
node from the need's grid up to the city, or one row per department. A rate for any node
and period is then a sum over a few hundred rows. :func:`rates_recompute` computes the same
numbers from the raw timeline, and the tests prove the two equal. The rules are in
``docs/rates.md``.

The counting rules exist twice, on purpose: in Python (:func:`_place_deltas`,
:func:`_department_deltas`) for the one event being written, and in SQL (``_PLACE_SQL``,
``_DEPARTMENT_SQL``) for recomputation and rebuilds. The property test holds them together.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, IntegerField, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from linli.needs.models import EventKind, NeedEvent, RateRollup
from linli.people.models import Department
from linli.places.models import Place, PlaceKind

#: Days of the roll-ups are local days in the site's time zone (``settings.TIME_ZONE``), whatever
#: the server's zone: it decides on which day an event counts.
RATES_TIME_ZONE: str = ZoneInfo(settings.TIME_ZONE).key  # a valid zone name: safe to quote in SQL
_ZONE = ZoneInfo(RATES_TIME_ZONE)

#: Place kinds that get roll-up rows; buildings, courtyards and households do not.
ROLLUP_KINDS: tuple[str, ...] = (
    PlaceKind.CITY,
    PlaceKind.DISTRICT,
    PlaceKind.COUNTY,
    PlaceKind.STREET,
    PlaceKind.TOWN,
    PlaceKind.COMMUNITY,
    PlaceKind.VILLAGE,
    PlaceKind.GRID,
)

COUNTERS: tuple[str, ...] = RateRollup.COUNTERS
_SATISFACTIONS = ("satisfied", "basic", "unsatisfied")
#: Kinds that count on a department's row when the event names the department.
_DEPARTMENT_OWN_KINDS = (EventKind.WHISTLED, EventKind.CHECKED_IN, EventKind.RESOLVED, EventKind.OVERDUE)

Period = Literal["day", "month"]


# --- the numbers ----------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rates:
    """The counters behind the three rates for one owner (place or department) and period,
    and the rates as fractions rounded to four places (0.9670 is 96.70 %), ``None`` when
    nothing was received or followed up. Beijing's formulas."""

    received: int = 0
    responded: int = 0
    responded_on_time: int = 0
    resolved: int = 0
    followed_up: int = 0
    rated_resolved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    overdue: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Rates:
        return cls(**{name: int(row.get(name) or 0) for name in COUNTERS})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __add__(self, other: Rates) -> Rates:
        return Rates(**{name: getattr(self, name) + getattr(other, name) for name in COUNTERS})

    @property
    def response_rate(self) -> Decimal | None:
        """响应率 = responded / received."""
        return _ratio(self.responded, self.received)

    @property
    def on_time_response_rate(self) -> Decimal | None:
        """按时响应率 = responded on time / received."""
        return _ratio(self.responded_on_time, self.received)

    @property
    def resolution_rate(self) -> Decimal | None:
        """解决率 = rated resolved / followed up."""
        return _ratio(self.rated_resolved, self.followed_up)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        """满意率 = (satisfied + basically satisfied) / followed up."""
        return _ratio(self.satisfied + self.basic, self.followed_up)


# --- the rules, in Python (one event at a time) ---------------------------------------------


def _is_true(data: Mapping[str, Any], key: str) -> bool:
    # exactly JSON true, as the SQL side tests ``data->key = 'true'``
    return data.get(key) is True


def _rating_deltas(data: Mapping[str, Any]) -> dict[str, int]:
    deltas = {"followed_up": 1}
    if _is_true(data, "resolved"):
        deltas["rated_resolved"] = 1
    satisfaction = data.get("satisfaction")
    if satisfaction in _SATISFACTIONS:
        deltas[str(satisfaction)] = 1
    return deltas


def _place_deltas(event: NeedEvent) -> dict[str, int]:
    """What the event adds to each place row above its need."""
    data: Mapping[str, Any] = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    if kind == EventKind.SUBMITTED:
        return {"received": 1}
    if kind == EventKind.MERGED:
        return {"received": -1}
    if kind == EventKind.ACCEPTED and _is_true(data, "first"):
        return {"responded": 1, "responded_on_time": 1} if _is_true(data, "on_time") else {"responded": 1}
    if kind == EventKind.RESOLVED and event.department_id is None:
        return {"resolved": 1}
    if kind == EventKind.OVERDUE and event.department_id is None:
        return {"overdue": 1}
    if kind == EventKind.RATED:
        return _rating_deltas(data)
    return {}


def _rated_departments(data: Mapping[str, Any]) -> list[int]:
    departments = data.get("departments")
    if not isinstance(departments, list):
        return []
    # integers only (the SQL side matches JSON numbers); each department once per rating
    return sorted({d for d in departments if isinstance(d, int) and not isinstance(d, bool) and d > 0})


def _department_deltas(event: NeedEvent) -> dict[int, dict[str, int]]:
    """What the event adds to each department's row."""
    data: Mapping[str, Any] = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    if kind == EventKind.RATED:
        rating = _rating_deltas(data)
        return dict.fromkeys(_rated_departments(data), rating)
    if event.department_id is None:
        return {}
    if kind == EventKind.WHISTLED:
        return {event.department_id: {"received": 1}}
    if kind == EventKind.CHECKED_IN:
        on_time = _is_true(data, "on_time")
        return {event.department_id: {"responded": 1, "responded_on_time": 1} if on_time else {"responded": 1}}
    if kind == EventKind.RESOLVED:
        return {event.department_id: {"resolved": 1}}
    if kind == EventKind.OVERDUE:
        return {event.department_id: {"overdue": 1}}
    return {}


def _ancestor_paths(path: str) -> list[str]:
    """The paths of a node and every node above it."""
    step = Place.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def local_day(at: dt.datetime) -> dt.date:
    """The day (Asia/Shanghai) a moment counts on."""
    return at.astimezone(_ZONE).date()


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in Asia/Shanghai, so the filter on ``at`` uses its index."""
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=_ZONE)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=_ZONE)
    return lower, upper


_TABLE = RateRollup._meta.db_table
_PLACE_TABLE = Place._meta.db_table
_EVENT_TABLE = NeedEvent._meta.db_table
_COLUMNS = ", ".join(COUNTERS)
_UPSERT_TAIL = "ON CONFLICT ON CONSTRAINT rate_rollup_once DO UPDATE SET " + ", ".join(
    f"{c} = {_TABLE}.{c} + EXCLUDED.{c}" for c in COUNTERS
)


def rollup_event(event: NeedEvent) -> None:
    """Add ``event`` to the roll-ups of its day. Call it in the transaction that created the
    event, right after creating it. One statement: an upsert whose place rows are selected
    from the ancestors of the event's place (grid and above) and whose department rows are
    given. Events that count nothing write nothing."""
    place_deltas = _place_deltas(event)
    department_deltas = _department_deltas(event)
    if not place_deltas and not department_deltas:
        return
    day = local_day(event.at)
    selects: list[str] = []
    params: list[Any] = []
    if place_deltas:
        # place rows are upserted (and so locked) city first, down the tree, in every transaction
        selects.append(
            f"(SELECT %s::date, id, NULL::bigint, {', '.join(['%s::int'] * len(COUNTERS))} "  # noqa: S608 (constants only; values are parameters)
            f"FROM {_PLACE_TABLE} WHERE path = ANY(%s) AND kind = ANY(%s) ORDER BY path)"
        )
        params += [
            day,
            *(place_deltas.get(c, 0) for c in COUNTERS),
            _ancestor_paths(event.place_path),
            list(ROLLUP_KINDS),
        ]
    for department_id, deltas in department_deltas.items():
        selects.append(f"(SELECT %s::date, NULL::bigint, %s::bigint, {', '.join(['%s::int'] * len(COUNTERS))})")
        params += [day, department_id, *(deltas.get(c, 0) for c in COUNTERS)]
    sql = (
        f"INSERT INTO {_TABLE} (day, place_id, department_id, {_COLUMNS}) "
        + " UNION ALL ".join(selects)
        + " "
        + _UPSERT_TAIL
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- the rules, in SQL (over many events, alias ``e``) --------------------------------------


def _case(condition: str, value: int = 1) -> str:
    return f"CASE WHEN {condition} THEN {value} ELSE 0 END"


_TRUE = "'true'::jsonb"
_RATED = "e.kind = 'rated'"
_RATING_SQL = {
    "followed_up": _case(_RATED),
    "rated_resolved": _case(f"{_RATED} AND e.data->'resolved' = {_TRUE}"),
    **{s: _case(f"{_RATED} AND e.data->>'satisfaction' = '{s}'") for s in _SATISFACTIONS},
}

#: Per event: what it adds to every place row above its need.
_PLACE_SQL: dict[str, str] = {
    "received": "CASE e.kind WHEN 'submitted' THEN 1 WHEN 'merged' THEN -1 ELSE 0 END",
    "responded": _case(f"e.kind = 'accepted' AND e.data->'first' = {_TRUE}"),
    "responded_on_time": _case(f"e.kind = 'accepted' AND e.data->'first' = {_TRUE} AND e.data->'on_time' = {_TRUE}"),
    "resolved": _case("e.kind = 'resolved' AND e.department_id IS NULL"),
    **_RATING_SQL,
    "overdue": _case("e.kind = 'overdue' AND e.department_id IS NULL"),
}

#: Per (event, department) pair, where the pair is either the event's own department for
#: the kinds in ``_DEPARTMENT_OWN_KINDS`` or a department named by a rating.
_DEPARTMENT_SQL: dict[str, str] = {
    "received": _case("e.kind = 'whistled'"),
    "responded": _case("e.kind = 'checked_in'"),
    "responded_on_time": _case(f"e.kind = 'checked_in' AND e.data->'on_time' = {_TRUE}"),
    "resolved": _case("e.kind = 'resolved'"),
    **_RATING_SQL,
    "overdue": _case("e.kind = 'overdue'"),
}

_OWN_KINDS_SQL = ", ".join(f"'{k}'" for k in _DEPARTMENT_OWN_KINDS)
_PLACE_KINDS_SQL = "'submitted', 'merged', 'accepted', 'resolved', 'rated', 'overdue'"


def _sums(rules: Mapping[str, str]) -> str:
    return ", ".join(f"COALESCE(SUM({rules[c]}), 0) AS {c}" for c in COUNTERS)


def _counts_anything(rules: Mapping[str, str]) -> str:
    return "(" + " OR ".join(f"({rules[c]}) <> 0" for c in COUNTERS) + ")"


def _fetch_one(sql: str, params: Sequence[Any]) -> Rates:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [col[0] for col in cursor.description or ()]
    return Rates.from_row(dict(zip(names, row or (), strict=False)))


def _owner_check(place: Place | None, department: Department | None) -> None:
    if (place is None) == (department is None):
        raise ValueError("rates are kept per place or per department: give exactly one")
    if place is not None and place.kind not in ROLLUP_KINDS:
        raise ValueError(f"rates are kept for grids and above, not for a {place.kind}")


def rates_recompute(
    *, place: Place | None = None, department: Department | None = None, start: dt.date, end: dt.date
) -> Rates:
    """The counters of :func:`rates_for`, computed from the raw timeline (never the
    roll-ups): one aggregate query over the events of the period under ``place`` (a prefix
    match on ``place_path``) or concerning ``department``."""
    _owner_check(place, department)
    lower, upper = _day_bounds(start, end)
    if place is not None:
        sql = (
            f"SELECT {_sums(_PLACE_SQL)} FROM {_EVENT_TABLE} e "  # noqa: S608 (constants only; values are parameters)
            f"WHERE e.at >= %s AND e.at < %s AND e.kind IN ({_PLACE_KINDS_SQL}) AND e.place_path LIKE %s"
        )
        return _fetch_one(sql, [lower, upper, _like_prefix(place.path)])
    assert department is not None
    sql = (
        f"SELECT {_sums(_DEPARTMENT_SQL)} FROM {_EVENT_TABLE} e "  # noqa: S608 (constants only; values are parameters)
        "WHERE e.at >= %s AND e.at < %s AND ("
        f"(e.kind IN ({_OWN_KINDS_SQL}) AND e.department_id = %s) "
        "OR (e.kind = 'rated' AND e.data->'departments' @> %s::jsonb))"
    )
    return _fetch_one(sql, [lower, upper, department.pk, json.dumps([department.pk])])


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- reads of the roll-ups ------------------------------------------------------------------


def _sum_annotations() -> dict[str, Any]:
    return {c: Coalesce(Sum(c), 0, output_field=IntegerField()) for c in COUNTERS}


def _rollups(
    *, place: Place | None, department: Department | None, start: dt.date, end: dt.date
) -> QuerySet[RateRollup]:
    _owner_check(place, department)
    qs = RateRollup.objects.filter(day__gte=start, day__lte=end)
    return qs.filter(place=place) if place is not None else qs.filter(department=department)


def rates_for(
    *, place: Place | None = None, department: Department | None = None, start: dt.date, end: dt.date
) -> Rates:
    """The rates of one place node (grid and above) or one department over the days
    ``start``–``end`` (inclusive, Asia/Shanghai): one aggregate query over the roll-ups."""
    row = _rollups(place=place, department=department, start=start, end=end).aggregate(**_sum_annotations())
    return Rates.from_row(row)


def rates_by_child(*, parent: Place, start: dt.date, end: dt.date) -> list[tuple[Place, Rates]]:
    """Drill-down: each child of ``parent`` that has roll-ups (the communities of a street,
    the grids of a community), in tree order, with its rates. Two queries, however many
    children."""
    children = list(
        Place.objects.filter(path__startswith=parent.path, depth=parent.depth + 1, kind__in=ROLLUP_KINDS).order_by(
            "path"
        )
    )
    if not children:
        return []
    rows = (
        RateRollup.objects.filter(place__in=[c.pk for c in children], day__gte=start, day__lte=end)
        .values("place_id")
        .annotate(**_sum_annotations())
        .order_by()
    )
    by_place = {row["place_id"]: Rates.from_row(row) for row in rows}
    return [(child, by_place.get(child.pk, Rates())) for child in children]


def department_ranking(
    *, start: dt.date, end: dt.date, departments: QuerySet[Department] | None = None
) -> list[tuple[Department, Rates]]:
    """Departments ranked by satisfaction rate, then resolution, response and on-time
    response rate (highest first; undefined rates last; then by code). Two queries."""
    qs = departments if departments is not None else Department.objects.all()
    departments_list = list(qs)
    rows = (
        RateRollup.objects.filter(department__in=[d.pk for d in departments_list], day__gte=start, day__lte=end)
        .values("department_id")
        .annotate(**_sum_annotations())
        .order_by()
    )
    by_department = {row["department_id"]: Rates.from_row(row) for row in rows}
    ranked = [(d, by_department.get(d.pk, Rates())) for d in departments_list]

    def key(item: tuple[Department, Rates]) -> tuple[Decimal | str, ...]:
        rates = item[1]
        order = (rates.satisfaction_rate, rates.resolution_rate, rates.response_rate, rates.on_time_response_rate)
        # highest first; an undefined rate (1 after negation) sorts after every defined one
        return (*(-rate if rate is not None else Decimal(1) for rate in order), item[0].code)

    return sorted(ranked, key=key)


def _periods(start: dt.date, end: dt.date, period: Period) -> list[dt.date]:
    if period == "day":
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    months: list[dt.date] = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def rates_by_period(
    *,
    place: Place | None = None,
    department: Department | None = None,
    start: dt.date,
    end: dt.date,
    period: Period = "day",
) -> list[tuple[dt.date, Rates]]:
    """A series for charts: every day (or every month, dated its first day) from ``start``
    to ``end`` with its rates, empty periods included. One query."""
    if period not in ("day", "month"):
        raise ValueError(f"unknown period {period!r}")
    qs = _rollups(place=place, department=department, start=start, end=end)
    bucket = TruncMonth("day") if period == "month" else F("day")
    rows = qs.values(bucket=bucket).annotate(**_sum_annotations()).order_by("bucket")
    by_bucket = {row["bucket"]: Rates.from_row(row) for row in rows}
    return [(when, by_bucket.get(when, Rates())) for when in _periods(start, end, period)]


# --- rebuild --------------------------------------------------------------------------------


@transaction.atomic
def rollup_rebuild(*, start: dt.date | None = None, end: dt.date | None = None) -> int:
    """Delete the roll-ups of the days ``start``–``end`` (all days when not given) and
    rebuild them from the timeline, set-based (for operators after an import or a rule
    change). Takes an EXCLUSIVE lock on the roll-up table, so events written meanwhile wait
    and then add to the rebuilt rows. Returns the number of rows written."""
    lower, upper = _day_bounds(start or dt.date(1900, 1, 1), end or dt.date(9999, 12, 30))
    day_sql = f"(e.at AT TIME ZONE '{RATES_TIME_ZONE}')::date"
    insert = f"INSERT INTO {_TABLE} (day, place_id, department_id, {_COLUMNS}) "
    place_sql = (
        insert + f"SELECT {day_sql}, p.id, NULL, {_sums(_PLACE_SQL)} FROM {_EVENT_TABLE} e "  # noqa: S608 (constants only; values are parameters)
        f"CROSS JOIN LATERAL generate_series({Place.steplen}, length(e.place_path), {Place.steplen}) AS g(n) "
        f"JOIN {_PLACE_TABLE} p ON p.path = left(e.place_path, g.n) AND p.kind = ANY(%s) "
        f"WHERE e.at >= %s AND e.at < %s AND {_counts_anything(_PLACE_SQL)} "
        f"GROUP BY 1, p.id"
    )
    rated_departments = (
        "SELECT DISTINCT (v #>> '{}')::bigint AS id FROM jsonb_array_elements("
        "CASE WHEN jsonb_typeof(e.data->'departments') = 'array' THEN e.data->'departments' ELSE '[]'::jsonb END"
        ") AS j(v) WHERE jsonb_typeof(v) = 'number' AND (v #>> '{}') ~ '^[1-9][0-9]*$'"
    )
    department_sql = (
        insert + f"SELECT {day_sql}, NULL, pair.department_id, {_sums(_DEPARTMENT_SQL)} FROM {_EVENT_TABLE} e "  # noqa: S608 (constants only; values are parameters)
        "CROSS JOIN LATERAL ("
        f"SELECT e.department_id WHERE e.kind IN ({_OWN_KINDS_SQL}) AND e.department_id IS NOT NULL "
        f"UNION ALL SELECT d.id FROM ({rated_departments}) d WHERE e.kind = 'rated'"
        ") AS pair(department_id) "
        "WHERE e.at >= %s AND e.at < %s "
        "GROUP BY 1, pair.department_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_TABLE} IN EXCLUSIVE MODE")
        deleted = RateRollup.objects.all()
        if start is not None:
            deleted = deleted.filter(day__gte=start)
        if end is not None:
            deleted = deleted.filter(day__lte=end)
        deleted.delete()
        cursor.execute(place_sql, [list(ROLLUP_KINDS), lower, upper])
        written: int = cursor.rowcount
        cursor.execute(department_sql, [lower, upper])
        written += cursor.rowcount
    return written
