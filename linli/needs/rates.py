"""The three rates 响应率、解决率、满意率: incremental roll-ups, reads and recomputation.

A need counts where and when it was received: its response, resolution and lateness are
counted on the place rows of the day and place of its submission (the *cohort* of the
need), however late they happen, so that "responded" is always a part of "received" over
any period and at any place. A department's dispatch counts likewise on the day it was
whistled. Follow-ups (ratings) count on their own day. The rules are in ``docs/rates.md``.

Every need event that counts adds to the :class:`~linli.needs.models.RateRollup` rows in the
writing transaction (:func:`rollup_event`): one row per place node from the need's grid up
to the city; per department, one row without a place (all its work) and one per such node
(its work for the needs received there). A rate for any node, department and period is then
a sum over a few hundred rows. :func:`rates_recompute` computes the same numbers from the
raw timeline and :func:`rollup_rebuild` rewrites the rows from it, and the tests prove the
three equal. The rules are written once, in SQL (``_PLACE_RULES``, ``_DEPARTMENT_RULES``),
and serve all three.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
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
#: Kinds that count on a department's rows when the event names the department.
_DEPARTMENT_OWN_KINDS = (EventKind.WHISTLED, EventKind.CHECKED_IN, EventKind.RESOLVED, EventKind.OVERDUE)
#: Kinds that may count on place rows.
_PLACE_KINDS = (
    EventKind.SUBMITTED,
    EventKind.MERGED,
    EventKind.ACCEPTED,
    EventKind.RESOLVED,
    EventKind.OVERDUE,
    EventKind.RATED,
)

Period = Literal["day", "month"]

#: A rate in basis points: 9670 is 96.70 %.
_BASIS = 10_000


# --- the numbers ----------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` rounded half up to four places, in integers; ``None`` when
    the denominator is empty. Never below 0 nor above 1: the counters are kept so that a
    numerator is a part of its denominator, and the bound holds even for data written
    below the services."""
    if denominator <= 0:
        return None
    part = min(max(numerator, 0), denominator)
    basis_points = (2 * part * _BASIS + denominator) // (2 * denominator)
    return Decimal(basis_points).scaleb(-4)


@dataclass(frozen=True)
class Rates:
    """The counters behind the three rates for one owner (place or department) and period,
    and the rates as fractions rounded to four places (0.9670 is 96.70 %), ``None`` when
    nothing was received or followed up. Beijing's formulas.

    ``received``, ``responded``, ``responded_on_time``, ``resolved`` and ``overdue`` count
    the needs (or dispatches) received in the period; ``followed_up`` and the answers count
    the ratings given in the period."""

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
    def empty(self) -> bool:
        """Nothing received, nothing followed up, nothing at all."""
        return not any(getattr(self, name) for name in COUNTERS)

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


def local_day(at: dt.datetime) -> dt.date:
    """The day (Asia/Shanghai) a moment counts on."""
    return at.astimezone(_ZONE).date()


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in Asia/Shanghai, so a filter on a moment uses its index."""
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=_ZONE)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=_ZONE)
    return lower, upper


# --- the rules, in SQL ------------------------------------------------------------------------
#
# Each rule is an expression over one event ``e`` of a need, with ``s`` the need's reception
# (its first ``submitted`` event, not after ``e``) and, on department rows, ``pair`` the
# department and ``w`` the dispatch the event belongs to (the latest ``whistled`` event of
# that department for the need, not after ``e``). "First" and "after" follow the order in
# which the events were recorded (their ids), which the need's row lock makes the order of
# the need's history.

_TABLE = RateRollup._meta.db_table
_PLACE_TABLE = Place._meta.db_table
_E = NeedEvent._meta.db_table
_COLUMNS = ", ".join(COUNTERS)
_UPSERT_TAIL = "ON CONFLICT ON CONSTRAINT rate_rollup_once DO UPDATE SET " + ", ".join(
    f"{c} = {_TABLE}.{c} + EXCLUDED.{c}" for c in COUNTERS
)
_TRUE = "'true'::jsonb"


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants of this module only


def _case(condition: str, value: int = 1) -> str:
    return f"CASE WHEN {condition} THEN {value} ELSE 0 END"


#: What makes an event (alias ``{a}``) the one a cohort counter is about; only the need's first
#: such event counts.
_COHORT_EVENTS = {
    "responded": "{a}.kind = 'accepted' AND {a}.data->'first' = " + _TRUE,
    "resolved": "{a}.kind = 'resolved' AND {a}.department_id IS NULL",
    "overdue": "{a}.kind = 'overdue' AND {a}.department_id IS NULL",
    "merged": "{a}.kind = 'merged'",
}


def _earlier(what: str, select: str = "1") -> str:
    """The need's events of that sort recorded before ``e``."""
    return (
        f"SELECT {select} FROM {_E} x WHERE x.need_id = e.need_id AND x.id < e.id "  # noqa: S608 (constants only)
        f"AND {_COHORT_EVENTS[what].format(a='x')}"
    )


def _first(what: str) -> str:
    return f"({_COHORT_EVENTS[what].format(a='e')} AND NOT EXISTS ({_earlier(what)}))"


#: ``e`` comes before any merge of its need: a merged duplicate counts nowhere.
_UNMERGED = f"NOT EXISTS ({_earlier('merged')})"
#: ``e`` merges its need: it takes back what the need had counted.
_MERGE = _first("merged")
#: The need's first response, counted (recorded after its reception) and on time.
_COUNTED_RESPONSE_ON_TIME = (
    "(" + _earlier("responded", select="x.id > s.id AND x.data->'on_time' = " + _TRUE) + " ORDER BY x.id LIMIT 1)"
)


def _cohort_rule(what: str) -> str:
    # a merge takes back the need's first such event if it counted (after the reception)
    return (
        f"CASE WHEN {_first(what)} AND {_UNMERGED} THEN 1 "
        f"WHEN {_MERGE} AND ({_earlier(what, select='min(x.id)')}) > s.id THEN -1 ELSE 0 END"
    )


_RATED = "e.kind = 'rated'"
_RATING_RULES = {
    "followed_up": _case(_RATED),
    "rated_resolved": _case(f"{_RATED} AND e.data->'resolved' = {_TRUE}"),
    **{s: _case(f"{_RATED} AND e.data->>'satisfaction' = '{s}'") for s in _SATISFACTIONS},
}

#: Per event: what it adds to the place rows of its need's reception.
_PLACE_RULES: dict[str, str] = {
    "received": f"CASE WHEN e.id = s.id THEN 1 WHEN {_MERGE} THEN -1 ELSE 0 END",
    "responded": _cohort_rule("responded"),
    "responded_on_time": (
        f"CASE WHEN {_first('responded')} AND e.data->'on_time' = {_TRUE} AND {_UNMERGED} THEN 1 "
        f"WHEN {_MERGE} AND {_COUNTED_RESPONSE_ON_TIME} IS TRUE THEN -1 ELSE 0 END"
    ),
    "resolved": _cohort_rule("resolved"),
    **_RATING_RULES,
    "overdue": _cohort_rule("overdue"),
}

#: ``e`` is the first event of its kind in its dispatch ``w``.
_FIRST_IN_DISPATCH = (
    f"w.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {_E} x WHERE x.need_id = e.need_id "  # noqa: S608 (constants only)
    "AND x.department_id = pair.department_id AND x.kind = e.kind AND x.id > w.id AND x.id < e.id)"
)

#: Per (event, department) pair: what it adds to the department's rows.
_DEPARTMENT_RULES: dict[str, str] = {
    "received": _case("e.kind = 'whistled'"),
    "responded": _case(f"e.kind = 'checked_in' AND {_FIRST_IN_DISPATCH}"),
    "responded_on_time": _case(f"e.kind = 'checked_in' AND e.data->'on_time' = {_TRUE} AND {_FIRST_IN_DISPATCH}"),
    "resolved": _case(f"e.kind = 'resolved' AND {_FIRST_IN_DISPATCH}"),
    **_RATING_RULES,
    "overdue": _case(f"e.kind = 'overdue' AND {_FIRST_IN_DISPATCH}"),
}

_RECEPTION = (
    f"SELECT s.id, s.at, s.place_path FROM {_E} s "  # noqa: S608 (constants only)
    "WHERE s.need_id = e.need_id AND s.kind = 'submitted' AND s.id <= e.id ORDER BY s.id LIMIT 1"
)
_DISPATCH = (
    f"SELECT w.id, w.at FROM {_E} w WHERE w.need_id = e.need_id AND w.kind = 'whistled' "  # noqa: S608 (constants only)
    "AND w.department_id = pair.department_id AND w.id <= e.id ORDER BY w.id DESC LIMIT 1"
)
_RATED_DEPARTMENTS = (
    "SELECT DISTINCT (v #>> '{}')::bigint AS id FROM jsonb_array_elements("
    "CASE WHEN jsonb_typeof(e.data->'departments') = 'array' THEN e.data->'departments' ELSE '[]'::jsonb END"
    ") AS j(v) WHERE jsonb_typeof(v) = 'number' AND (v #>> '{}') ~ '^[1-9][0-9]*$'"
)


def _counts_anything() -> str:
    return "(" + " OR ".join(f"c.{c} <> 0" for c in COUNTERS) + ")"


def _place_contributions(where: str) -> str:
    """One row per event (filtered by ``where`` over ``e``) that counts on place rows: the
    moment it counts at, the path of the need's reception and the ten counters."""
    columns = ", ".join(f"{_PLACE_RULES[c]} AS {c}" for c in COUNTERS)
    return (
        "SELECT * FROM ("  # noqa: S608 (constants only; values are parameters)
        f"SELECT CASE WHEN {_RATED} THEN e.at ELSE s.at END AS moment, s.place_path AS path, {columns} "
        f"FROM {_E} e JOIN LATERAL ({_RECEPTION}) s ON TRUE "
        f"WHERE e.kind IN ({_sql_list(_PLACE_KINDS)}) AND ({where})"
        f") c WHERE {_counts_anything()}"
    )


def _department_contributions(where: str) -> str:
    """One row per (event, department) that counts on department rows: the moment (the
    dispatch's, or the rating's), the path of the need's reception (NULL when the need has
    none before the dispatch), the department and the ten counters."""
    columns = ", ".join(f"{_DEPARTMENT_RULES[c]} AS {c}" for c in COUNTERS)
    return (
        "SELECT * FROM ("  # noqa: S608 (constants only; values are parameters)
        f"SELECT CASE WHEN {_RATED} THEN e.at ELSE w.at END AS moment, "
        # a dispatch counts at the place of a reception recorded before it
        f"CASE WHEN {_RATED} OR s.id < w.id THEN s.place_path END AS path, "
        f"pair.department_id, {columns} "
        f"FROM {_E} e LEFT JOIN LATERAL ({_RECEPTION}) s ON TRUE "
        "CROSS JOIN LATERAL ("
        f"SELECT e.department_id WHERE e.kind IN ({_sql_list(_DEPARTMENT_OWN_KINDS)}) AND e.department_id IS NOT NULL "
        f"UNION ALL SELECT d.id FROM ({_RATED_DEPARTMENTS}) d WHERE {_RATED}"
        ") AS pair(department_id) "
        f"LEFT JOIN LATERAL ({_DISPATCH}) w ON TRUE "
        f"WHERE e.kind IN ({_sql_list([*_DEPARTMENT_OWN_KINDS, EventKind.RATED])}) AND ({where})"
        f") c WHERE c.moment IS NOT NULL AND {_counts_anything()}"
    )


def _owner_rows(where: str, moments: str = "TRUE") -> str:
    """Every roll-up row (moment, place, department, counters) each counted event adds to:
    the place rows of its reception, and for a department its row without a place and its
    rows at the place nodes of the reception."""
    counters = ", ".join(f"c.{c}" for c in COUNTERS)
    nodes = (
        f"JOIN LATERAL generate_series({Place.steplen}, length(c.path), {Place.steplen}) AS g(n) ON TRUE "
        f"JOIN {_PLACE_TABLE} p ON p.path = left(c.path, g.n) AND p.kind IN ({_sql_list(ROLLUP_KINDS)})"
    )
    return (
        f"WITH pc AS ({_place_contributions(where)}), dc AS ({_department_contributions(where)}) "  # noqa: S608 (constants only)
        f"SELECT c.moment, p.id AS place_id, NULL::bigint AS department_id, {counters} FROM pc c {nodes} "
        f"WHERE {moments} "
        f"UNION ALL SELECT c.moment, NULL::bigint, c.department_id, {counters} FROM dc c WHERE {moments} "
        f"UNION ALL SELECT c.moment, p.id, c.department_id, {counters} FROM dc c {nodes} WHERE {moments}"
    )


def _grouped_rows(where: str, moments: str = "TRUE") -> str:
    day = f"(o.moment AT TIME ZONE '{RATES_TIME_ZONE}')::date"
    sums = ", ".join(f"SUM(o.{c})" for c in COUNTERS)
    return (
        f"INSERT INTO {_TABLE} (day, place_id, department_id, {_COLUMNS}) "  # noqa: S608 (constants only)
        f"SELECT {day}, o.place_id, o.department_id, {sums} FROM ({_owner_rows(where, moments)}) o "
        # rows are upserted (and so locked) in one order in every statement: the place rows
        # first, as the services write a need's own events before its departments' ones
        "GROUP BY 1, 2, 3 ORDER BY o.department_id IS NOT NULL, 1, 2 NULLS FIRST, 3"
    )


def _may_count(event: NeedEvent) -> bool:
    """Whether the rules could count ``event`` at all (so that the many events that count
    nothing cost no statement)."""
    kind = event.kind
    if kind == EventKind.ACCEPTED:
        return isinstance(event.data, dict) and event.data.get("first") is True
    if kind in (EventKind.WHISTLED, EventKind.CHECKED_IN):
        return event.department_id is not None
    return kind in _PLACE_KINDS


def rollup_event(event: NeedEvent) -> None:
    """Add ``event`` to the roll-ups. Call it in the transaction that created the event,
    right after creating it, with the need's row locked (the services do). One statement:
    an upsert of the rows the rules select for this event. Events that count nothing write
    nothing."""
    if not _may_count(event):
        return
    sql = _grouped_rows("e.id = %(event)s") + " " + _UPSERT_TAIL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"event": event.pk})


# --- recomputation ----------------------------------------------------------------------------


def _sums(prefix: str = "c.") -> str:
    return ", ".join(f"COALESCE(SUM({prefix}{c}), 0) AS {c}" for c in COUNTERS)


def _fetch_one(sql: str, params: Mapping[str, Any]) -> Rates:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [col[0] for col in cursor.description or ()]
    return Rates.from_row(dict(zip(names, row or (), strict=False)))


def _owner_check(place: Place | None, department: Department | None) -> None:
    if place is None and department is None:
        raise ValueError("rates are kept per place, per department or per department at a place: give one")
    if place is not None and place.kind not in ROLLUP_KINDS:
        raise ValueError(f"rates are kept for grids and above, not for a {place.kind}")


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def rates_recompute(
    *, place: Place | None = None, department: Department | None = None, start: dt.date, end: dt.date
) -> Rates:
    """The counters of :func:`rates_for`, computed from the raw timeline (never the
    roll-ups): one aggregate query over the events of the needs received under ``place``
    and/or concerning ``department``."""
    _owner_check(place, department)
    lower, upper = day_bounds(start, end)
    params: dict[str, Any] = {"lower": lower, "upper": upper}
    where = ["TRUE"]
    outer = ["c.moment >= %(lower)s", "c.moment < %(upper)s"]
    if place is not None:
        params["prefix"] = _like_prefix(place.path)
        where.append(
            f"e.need_id IN (SELECT r.need_id FROM {_E} r WHERE r.kind = 'submitted' AND r.place_path LIKE %(prefix)s)"  # noqa: S608 (constants only)
        )
        outer.append("c.path LIKE %(prefix)s")
    if department is None:
        source = _place_contributions(" AND ".join(where))
    else:
        params |= {"department": department.pk, "named": json.dumps([department.pk])}
        where.append(f"(e.department_id = %(department)s OR ({_RATED} AND e.data->'departments' @> %(named)s::jsonb))")
        outer.append("c.department_id = %(department)s")
        source = _department_contributions(" AND ".join(where))
    sql = f"SELECT {_sums()} FROM ({source}) c WHERE {' AND '.join(outer)}"  # noqa: S608 (constants only)
    return _fetch_one(sql, params)


# --- reads of the roll-ups ------------------------------------------------------------------


def _sum_annotations() -> dict[str, Any]:
    return {c: Coalesce(Sum(c), 0, output_field=IntegerField()) for c in COUNTERS}


def _rollups(
    *, place: Place | None, department: Department | None, start: dt.date, end: dt.date
) -> QuerySet[RateRollup]:
    _owner_check(place, department)
    qs = RateRollup.objects.filter(day__gte=start, day__lte=end)
    qs = qs.filter(place=place) if place is not None else qs.filter(place__isnull=True)
    return qs.filter(department=department) if department is not None else qs.filter(department__isnull=True)


def rates_for(
    *, place: Place | None = None, department: Department | None = None, start: dt.date, end: dt.date
) -> Rates:
    """The rates of one place node (grid and above), one department (all its work) or one
    department for the needs received under one place node, over the days ``start``–``end``
    (inclusive, Asia/Shanghai): one aggregate query over the roll-ups."""
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
        RateRollup.objects.filter(
            place__in=[c.pk for c in children], department__isnull=True, day__gte=start, day__lte=end
        )
        .values("place_id")
        .annotate(**_sum_annotations())
        .order_by()
    )
    by_place = {row["place_id"]: Rates.from_row(row) for row in rows}
    return [(child, by_place.get(child.pk, Rates())) for child in children]


def rank_key(rates: Rates) -> tuple[int | Decimal, ...]:
    """The order of a ranking: whoever received something before whoever received nothing;
    then the highest satisfaction rate first, then resolution, response and on-time response
    rate, an undefined rate after every defined one."""
    order = (rates.satisfaction_rate, rates.resolution_rate, rates.response_rate, rates.on_time_response_rate)
    return (int(rates.received <= 0), *(-rate if rate is not None else Decimal(1) for rate in order))


def department_ranking(
    *, start: dt.date, end: dt.date, place: Place | None = None, departments: QuerySet[Department] | None = None
) -> list[tuple[Department, Rates]]:
    """Departments ranked by :func:`rank_key` (then by code), with their rates for the needs
    received under ``place`` (all their work without it): departments that had nothing
    whistled to them in that place and period come last. Two queries; the departments are
    ``departments`` and any other that has rows there."""
    rows = RateRollup.objects.filter(department__isnull=False, day__gte=start, day__lte=end)
    rows = rows.filter(place=place) if place is not None else rows.filter(place__isnull=True)
    if departments is not None:
        rows = rows.filter(department__in=departments)
    by_department = {
        row["department_id"]: Rates.from_row(row)
        for row in rows.values("department_id").annotate(**_sum_annotations()).order_by()
    }
    qs = departments if departments is not None else Department.objects.all()
    listed = list(qs)
    seen = {d.pk for d in listed}
    missing = [pk for pk in by_department if pk not in seen]
    if missing:
        listed += list(Department.objects.filter(pk__in=missing))
    ranked = [(d, by_department.get(d.pk, Rates())) for d in listed]
    return sorted(ranked, key=lambda item: (*rank_key(item[1]), item[0].code))


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
    change). A need's late events count on its reception day, so every event is read, not
    only those of these days. Takes an EXCLUSIVE lock on the roll-up table, so events
    written meanwhile wait and then add to the rebuilt rows. Returns the number of rows
    written."""
    lower, upper = day_bounds(start or dt.date(1900, 1, 1), end or dt.date(9999, 12, 30))
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_TABLE} IN EXCLUSIVE MODE")
        deleted = RateRollup.objects.all()
        if start is not None:
            deleted = deleted.filter(day__gte=start)
        if end is not None:
            deleted = deleted.filter(day__lte=end)
        deleted.delete()
        cursor.execute(
            _grouped_rows("TRUE", "c.moment >= %(lower)s AND c.moment < %(upper)s"), {"lower": lower, "upper": upper}
        )
        written: int = cursor.rowcount
    return written
