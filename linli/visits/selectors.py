"""Reads of the visits app, always through the actor's scope.

Who sees what:
- visit notes: the household's carer, and the grid worker and community staff of the place
  (``VIEW_VISITS``);
- coverage (who is due or overdue, never visited, the rates): those with ``VIEW_COVERAGE`` for
  their subtree, and a carer for the households assigned to them.

Coverage is one SQL statement over households, their kept last-visit times and their
community's policies (or the defaults). The policy arithmetic, for a household matching a set of
policies:

- ``day_interval`` = the shortest interval among matching policies that accept any visit;
- ``night_interval`` = the shortest among matching night-only policies;
- due = the earlier of (last visit that met someone + ``day_interval``) and (last night visit
  that met someone + ``night_interval``); a requirement with no such visit yet is due now;
- status: ``never`` (nothing ever met), ``overdue`` (due before now), ``due_soon`` (within
  ``DUE_SOON``), ``ok``, or ``none`` when no policy applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.core.access import SYSTEM, Actor, account_id, get_or_404, is_system, scope_for, under, under_sql
from linli.people.models import Household, Vulnerability
from linli.people.selectors import access_household
from linli.places.models import Place, PlaceKind
from linli.places.selectors import places_rooted
from linli.visits.capabilities import CARER_ROLES, VisitCap
from linli.visits.models import (
    COMMUNITY_PATH_LEN,
    DEFAULT_POLICIES,
    CareAssignment,
    NightRound,
    Opinion,
    Visit,
    VisitPolicy,
)

DUE_SOON = dt.timedelta(days=3)
#: Order of statuses in lists: the most urgent first.
STATUS_ORDER = ("never", "overdue", "due_soon", "ok", "none")
GREEN = ("ok", "none")


# --- visits -------------------------------------------------------------------------------------


def visit_list(
    *,
    actor: Actor,
    place: Place | None = None,
    household: Household | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kind: str | None = None,
    tag: str | None = None,
) -> QuerySet[Visit]:
    """The visits the actor may read: in the places where it keeps visit records, and a
    carer's to the households it cares for (``Visit.visible_also``)."""
    qs = Visit.objects.visible(actor, VisitCap.VIEW_VISITS).select_related(
        "household__place", "visitor", "met_person", "need"
    )
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if household is not None:
        qs = qs.filter(household=household)
    if since is not None:
        qs = qs.filter(visited_at__gte=since)
    if until is not None:
        qs = qs.filter(visited_at__lt=until)
    if kind:
        qs = qs.filter(kind=kind)
    if tag:
        qs = qs.filter(tags__contains=[tag])
    return qs.order_by("-visited_at", "-id")


def access_visit(actor: Actor, visit_id: int | str) -> Visit:
    return get_or_404(visit_list(actor=actor), visit_id, "visit")


def loggable_households(*, actor: Actor, q: str | None = None) -> QuerySet[Household]:
    """The households the actor may log a visit to: its assigned ones (a carer), or every one
    in the places where it keeps visit records (staff). The ones it visited last come first."""
    from django.db.models import OuterRef, Subquery

    from linli.core.text import normalize

    scope = scope_for(actor)
    qs = Household.objects.visible(actor, VisitCap.VIEW_VISITS)
    if not scope.everything and scope.person_id is not None and scope.paths(VisitCap.LOG_VISITS):
        # a carer's own households, where it may log visits (the rule of may_log_visit)
        mine = CareAssignment.objects.held_by(scope.person_id).filter(
            under(scope.paths(VisitCap.LOG_VISITS), "place_path")
        )
        qs = qs | Household.objects.filter(pk__in=mine.values("household_id"))
    qs = qs.select_related("place")
    if q:
        key = normalize(q)
        condition = Q(place__name_search__contains=key) | Q(place__code__icontains=q.strip())
        buildings = Place.objects.filter(
            kind__in=(PlaceKind.BUILDING, PlaceKind.COURTYARD), name_search__contains=key
        ).values_list("path", flat=True)[:50]
        qs = qs.filter(condition | under(buildings, "place__path"))
    if scope.person_id is None:
        return qs.order_by("place__path")
    # the actor's last visit to each household: one probe of (visitor, visited_at) per row returned
    last_by_me = Visit.objects.filter(household_id=OuterRef("pk"), visitor_id=scope.person_id).order_by("-visited_at")
    ordered: QuerySet[Household] = qs.annotate(last_by_me=Subquery(last_by_me.values("visited_at")[:1])).order_by(
        F("last_by_me").desc(nulls_last=True), "place__path"
    )
    return ordered


def assignment_list(
    *, actor: Actor, place: Place | None = None, carer_id: int | None = None, active: bool = True
) -> QuerySet[CareAssignment]:
    """Care assignments in the places where the actor may see coverage; a carer sees its own."""
    qs = CareAssignment.objects.visible(actor, VisitCap.VIEW_COVERAGE).select_related(
        "household__place", "carer", "assigned_by"
    )
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if carer_id is not None:
        qs = qs.filter(carer_id=carer_id)
    if active:
        qs = qs.filter(ended_at__isnull=True)
    return qs.order_by("place_path", "-started_at", "-id")


def policy_list(*, community: Place) -> list[tuple[str, int, bool, bool]]:
    """(target, interval days, night only, community's own) rows the community follows."""
    rows = list(VisitPolicy.objects.filter(community=community).order_by("interval_days", "target"))
    if not rows:
        return [(t, d, n, False) for t, d, n in DEFAULT_POLICIES]
    return [(p.target, p.interval_days, p.night_only, True) for p in rows if p.active]


def opinion_list(*, actor: Actor, place: Place | None = None, status: str | None = None) -> QuerySet[Opinion]:
    """Opinions heard on visits, for the staff who keep the visit records of the place."""
    qs = Opinion.objects.visible(actor, VisitCap.VIEW_VISITS).select_related("visit__household__place", "community")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def access_opinion(actor: Actor, opinion_id: int | str) -> Opinion:
    return get_or_404(opinion_list(actor=actor), opinion_id, "opinion")


def night_round_list(*, actor: Actor, place: Place | None = None) -> QuerySet[NightRound]:
    qs = NightRound.objects.visible(actor, VisitCap.VIEW_COVERAGE).select_related("place").prefetch_related("members")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    return qs.order_by("-starts_at", "-id")


def access_night_round(actor: Actor, round_id: int | str) -> NightRound:
    return get_or_404(night_round_list(actor=actor), round_id, "night round")


# --- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    household_id: int
    path: str
    name: str
    building: str
    carer_id: int | None
    carer_name: str
    vulnerabilities: list[str]
    out_by_day: bool
    last_visit_at: dt.datetime | None
    last_night_visit_at: dt.datetime | None
    day_interval: int | None
    night_interval: int | None
    due_at: dt.datetime | None
    status: str
    visited_in_period: bool

    @property
    def vulnerable(self) -> bool:
        return bool(self.vulnerabilities)

    @property
    def green(self) -> bool:
        return self.status in GREEN


def _default_values() -> tuple[str, list[Any]]:
    rows = ", ".join(["(%s, %s, %s)"] * len(DEFAULT_POLICIES))
    params: list[Any] = []
    for target, days, night in DEFAULT_POLICIES:
        params += [target, days, night]
    return rows, params


def _coverage_sql(
    *,
    actor: Actor,
    place: Place | None,
    now: dt.datetime | None = None,
    period_days: int = 30,
    carer_id: int | None = None,
    night_only: bool = False,
) -> tuple[str, list[Any]] | None:
    """The coverage CTE (``cov``) at ``now`` (default: the present) with a period of ``period_days``
    before it, and its parameters; ``None`` when the actor sees nothing."""
    now = now or timezone.now()
    period_start = now - dt.timedelta(days=period_days)
    where = ["hp.kind = 'household'"]
    params: list[Any] = []
    if place is not None:
        where.append("hp.path LIKE %s")
        params.append(place.path + "%")
    if not is_system(actor):
        scope = scope_for(actor)
        if not scope.everything:
            paths = scope.paths(VisitCap.VIEW_COVERAGE)
            options = []
            if paths:
                condition, values = under_sql(paths, "hp.path")
                options.append(condition)
                params += values
            if scope.person_id is not None:
                options.append("ca.carer_id = %s")
                params.append(scope.person_id)
            if not options:
                return None
            where.append("(" + " OR ".join(options) + ")")
    if carer_id is not None:
        where.append("ca.carer_id = %s")
        params.append(carer_id)
    if night_only:
        where.append("COALESCE(hc.out_by_day, false)")
    params.append(list(Vulnerability.values))
    defaults, default_params = _default_values()
    sql = f"""
    WITH hh AS MATERIALIZED (
        SELECT h.id AS household_id, hp.path, hp.name,
               substr(hp.path, 1, {COMMUNITY_PATH_LEN}) AS cpath,
               ca.carer_id, COALESCE(cp.name, '') AS carer_name,
               COALESCE(hc.out_by_day, false) AS out_by_day, hc.last_visit_at, hc.last_night_visit_at
          FROM places_place hp
          JOIN people_household h ON h.place_id = hp.id
          LEFT JOIN visits_householdcare hc ON hc.household_id = h.id
          LEFT JOIN visits_careassignment ca ON ca.household_id = h.id AND ca.ended_at IS NULL
          LEFT JOIN people_person cp ON cp.id = ca.carer_id
         WHERE {" AND ".join(where)}
    ),
    -- the vulnerability marks of each household's members, as one sorted array
    vul AS (
        SELECT m.household_id, array_agg(DISTINCT v ORDER BY v) AS vulns
          FROM people_person pe
          JOIN people_householdmember m ON m.person_id = pe.id
          JOIN hh ON hh.household_id = m.household_id,
               unnest(pe.vulnerabilities) AS v
         WHERE pe.vulnerabilities && %s::varchar[]  -- people with any mark (the GIN index)
         GROUP BY m.household_id
    ),
    hv AS (
        SELECT hh.*, COALESCE(vul.vulns, '{{}}') AS vulns
          FROM hh LEFT JOIN vul ON vul.household_id = hh.household_id
    ),
    communities AS (
        SELECT c.id, c.path FROM places_place c WHERE c.path IN (SELECT DISTINCT cpath FROM hh)
    ),
    pol AS MATERIALIZED (
        SELECT c.path AS cpath, p.target, p.interval_days, p.night_only
          FROM visits_visitpolicy p JOIN communities c ON c.id = p.community_id
         WHERE p.active
        UNION ALL
        SELECT c.path, d.target, d.interval_days, d.night_only
          FROM communities c CROSS JOIN (VALUES {defaults}) AS d(target, interval_days, night_only)
         WHERE NOT EXISTS (SELECT 1 FROM visits_visitpolicy p WHERE p.community_id = c.id)
    ),
    -- the policy arithmetic runs once per kind of household (community, out by day, marks), not
    -- once per household: a street has a few hundred kinds among its 100,000 households
    kinds AS (SELECT DISTINCT cpath, out_by_day, vulns FROM hv),
    kind_intervals AS (
        SELECT kinds.*, x.day_interval, x.night_interval
          FROM kinds LEFT JOIN LATERAL (
                SELECT min(pol.interval_days) FILTER (WHERE NOT pol.night_only) AS day_interval,
                       min(pol.interval_days) FILTER (WHERE pol.night_only) AS night_interval
                  FROM pol
                 WHERE pol.cpath = kinds.cpath
                   AND (pol.target = 'everyone'
                        OR (pol.target = 'out_by_day' AND kinds.out_by_day)
                        OR pol.target = ANY(kinds.vulns))
          ) x ON true
    ),
    eff AS (
        SELECT hv.*, k.day_interval, k.night_interval
          FROM hv JOIN kind_intervals k
            ON k.cpath = hv.cpath AND k.out_by_day = hv.out_by_day AND k.vulns = hv.vulns
    ),
    due AS (
        SELECT eff.*,
               CASE WHEN day_interval IS NULL THEN 'infinity'::timestamptz
                    WHEN last_visit_at IS NULL THEN '-infinity'::timestamptz
                    ELSE last_visit_at + day_interval * interval '1 day' END AS due_day,
               CASE WHEN night_interval IS NULL THEN 'infinity'::timestamptz
                    WHEN last_night_visit_at IS NULL THEN '-infinity'::timestamptz
                    ELSE last_night_visit_at + night_interval * interval '1 day' END AS due_night
          FROM eff
    ),
    cov AS (
        SELECT household_id, path, name, carer_id, carer_name, vulns, out_by_day,
               last_visit_at, last_night_visit_at, day_interval, night_interval,
               CASE WHEN LEAST(due_day, due_night) IN ('infinity', '-infinity') THEN NULL
                    ELSE LEAST(due_day, due_night) END AS due_at,
               CASE WHEN day_interval IS NULL AND night_interval IS NULL THEN 'none'
                    WHEN last_visit_at IS NULL THEN 'never'
                    WHEN LEAST(due_day, due_night) < %s THEN 'overdue'
                    WHEN LEAST(due_day, due_night) < %s THEN 'due_soon'
                    ELSE 'ok' END AS status,
               CASE WHEN last_visit_at IS NULL OR last_visit_at < %s THEN false
                    WHEN last_visit_at <= %s THEN true
                    -- a "now" in the past (a ledger's month end): look at the visits themselves
                    ELSE EXISTS (SELECT 1 FROM visits_visit v
                                  WHERE v.household_id = due.household_id AND NOT v.not_at_home
                                    AND v.visited_at >= %s AND v.visited_at <= %s) END
                    AS visited_in_period
          FROM due
    )
    """  # noqa: S608 (constants only; values are parameters)
    return sql, params + default_params + [now, now + DUE_SOON, period_start, now, period_start, now]


def coverage_rows(
    *,
    actor: Actor,
    place: Place | None = None,
    now: dt.datetime | None = None,
    period_days: int = 30,
    carer_id: int | None = None,
    night_only: bool = False,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[CoverageRow]:
    """Households with their visit status, most urgent first (never visited, overdue,
    vulnerable households before others, then by due date). ``actor=SYSTEM`` is the system."""
    built = _coverage_sql(
        actor=actor, place=place, now=now, period_days=period_days, carer_id=carer_id, night_only=night_only
    )
    if built is None:
        return []
    cte, params = built
    extra = ""
    if status:
        extra = "WHERE status = %s"
        params.append(status)
    order = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUS_ORDER))
    paging = ""
    if limit is not None:
        paging = "LIMIT %s OFFSET %s"
        params += [limit, offset]
    ordering = f"CASE status {order} END, cardinality(vulns) = 0, due_at NULLS FIRST, path"
    # the building's name is looked up for the rows returned only (a page, not the whole place)
    sql = f"""{cte}
    SELECT c.household_id, c.path, c.name, COALESCE(b.name, ''), c.carer_id, c.carer_name, c.vulns,
           c.out_by_day, c.last_visit_at, c.last_night_visit_at, c.day_interval, c.night_interval,
           c.due_at, c.status, c.visited_in_period
      FROM (SELECT * FROM cov {extra} ORDER BY {ordering} {paging}) c
      LEFT JOIN LATERAL (
            SELECT p.name FROM places_place p WHERE p.path = substr(c.path, 1, length(c.path) - 4) LIMIT 1
      ) b ON true
     ORDER BY {ordering}"""  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [
            CoverageRow(
                household_id=r[0],
                path=r[1],
                name=r[2],
                building=r[3],
                carer_id=r[4],
                carer_name=r[5],
                vulnerabilities=list(r[6] or []),
                out_by_day=r[7],
                last_visit_at=r[8],
                last_night_visit_at=r[9],
                day_interval=r[10],
                night_interval=r[11],
                due_at=r[12],
                status=r[13],
                visited_in_period=r[14],
            )
            for r in cur.fetchall()
        ]


@dataclass(frozen=True)
class CoverageSummary:
    key: str
    place: Place | None
    carer_name: str
    households: int
    never: int
    overdue: int
    due_soon: int
    ok: int
    vulnerable: int
    vulnerable_overdue: int
    visited_in_period: int

    @property
    def green(self) -> int:
        return self.households - self.never - self.overdue

    @property
    def on_time_rate(self) -> float | None:
        """Share of households visited as often as their policy asks (not never, not overdue)."""
        return self.green / self.households if self.households else None

    @property
    def period_rate(self) -> float | None:
        """Share of households met at least once in the period (走访覆盖率)."""
        return self.visited_in_period / self.households if self.households else None


def coverage_summary(
    *,
    actor: Actor,
    place: Place | None = None,
    by: str = "child",
    now: dt.datetime | None = None,
    period_days: int = 30,
) -> list[CoverageSummary]:
    """Coverage counts grouped by the children of ``place`` (``by="child"``), by carer
    (``by="carer"``), or one total row (``by="total"``)."""
    built = _coverage_sql(actor=actor, place=place, now=now, period_days=period_days)
    if built is None:
        return []
    cte, params = built
    if by == "carer":
        key = "COALESCE(carer_id::text, '')"
        label = "max(carer_name)"
    elif by == "total":
        key, label = "''", "''"
    else:
        depth = len(place.path) + 4 if place is not None else 4
        key, label = f"substr(path, 1, {depth})", "''"
    sql = f"""{cte}
    SELECT {key} AS k, {label},
           count(*),
           count(*) FILTER (WHERE status = 'never'),
           count(*) FILTER (WHERE status = 'overdue'),
           count(*) FILTER (WHERE status = 'due_soon'),
           count(*) FILTER (WHERE status IN ('ok', 'none')),
           count(*) FILTER (WHERE cardinality(vulns) > 0),
           count(*) FILTER (WHERE cardinality(vulns) > 0 AND status IN ('never', 'overdue')),
           count(*) FILTER (WHERE visited_in_period)
      FROM cov GROUP BY 1 ORDER BY 1"""  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    places: dict[str, Place] = {}
    if by == "child":
        places = {p.path: p for p in Place.objects.filter(path__in=[r[0] for r in rows])}
    return [
        CoverageSummary(
            key=r[0],
            place=places.get(r[0]),
            carer_name=r[1] or "",
            households=r[2],
            never=r[3],
            overdue=r[4],
            due_soon=r[5],
            ok=r[6],
            vulnerable=r[7],
            vulnerable_overdue=r[8],
            visited_in_period=r[9],
        )
        for r in rows
    ]


#: The statuses of a household overdue for a visit: never visited, or past its due date.
LATE = ("never", "overdue")


def late_count(
    *, actor: Actor, place: Place | None = None, carer_id: int | None = None, now: dt.datetime | None = None
) -> int:
    """How many households the actor sees (under ``place``, or cared for by ``carer_id``) are
    overdue for a visit or never visited: the length of the ``late`` lists (the coverage
    page's and a carer's), for the home page's to-do. One statement."""
    built = _coverage_sql(actor=actor, place=place, now=now, carer_id=carer_id)
    if built is None:
        return 0
    cte, params = built
    with connection.cursor() as cur:
        cur.execute(f"{cte} SELECT count(*) FROM cov WHERE status = ANY(%s)", [*params, list(LATE)])  # noqa: S608
        found: int = cur.fetchone()[0]
    return found


def household_coverage(*, actor: Actor, household: Household, now: dt.datetime | None = None) -> CoverageRow | None:
    rows = coverage_rows(actor=actor, place=household.place, now=now)
    return rows[0] if rows else None


def night_round_visited(*, night_round: NightRound) -> set[int]:
    """The households met on a night round (visits logged during it that met someone). Only
    which households, never what was heard: for a round already fetched through
    ``access_night_round``, so that those who see coverage but not visit notes see it too."""
    return set(Visit.objects.filter(night_round=night_round, not_at_home=False).values_list("household_id", flat=True))


@dataclass(frozen=True)
class CarerDue:
    carer_id: int
    households: int
    vulnerable: int


def overdue_by_carer(*, now: dt.datetime | None = None) -> list[CarerDue]:
    """Every carer with assigned households overdue or never visited, with how many and how many
    of them vulnerable (the system's view, for the reminder sweep): one statement."""
    built = _coverage_sql(actor=SYSTEM, place=None, now=now, period_days=0)
    if built is None:  # never for the system, which sees everything
        return []
    cte, params = built
    sql = f"""{cte}
    SELECT carer_id, count(*), count(*) FILTER (WHERE cardinality(vulns) > 0)
      FROM cov
     WHERE carer_id IS NOT NULL AND status IN ('never', 'overdue')
     GROUP BY carer_id ORDER BY carer_id"""  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [CarerDue(carer_id=r[0], households=r[1], vulnerable=r[2]) for r in cur.fetchall()]


def cared_household_paths(actor: Actor) -> list[str]:
    """The place paths of the households ``actor`` cares for now (包保): a carer sees their
    sensitive flags, and only theirs."""
    person_id = scope_for(actor).person_id if account_id(actor) is not None else None
    if person_id is None:
        return []
    return list(CareAssignment.objects.held_by(person_id).values_list("place_path", flat=True))


# --- the coverage pages' totals and access --------------------------------------------------


def is_carer_of(actor: Actor, household: Household) -> bool:
    """Whether ``actor`` cares for ``household`` now (包保)."""
    person_id = scope_for(actor).person_id
    if person_id is None:
        return False
    return CareAssignment.objects.held_by(person_id).filter(household=household).exists()


def access_household_visits(actor: Actor, pk: int | str) -> tuple[Household, bool]:
    """The household if the actor may see its visits or coverage: its carer, or staff with
    ``view_visits``/``view_coverage`` at its place; 404 otherwise. Also says whether the
    actor is its carer."""
    household = access_household(actor, pk)
    scope = scope_for(actor)
    path_ = household.place.path
    carer = is_carer_of(actor, household)
    if carer or scope.allows(VisitCap.VIEW_VISITS, path_) or scope.allows(VisitCap.VIEW_COVERAGE, path_):
        return household, carer
    raise Http404("household not found")


def coverage_total(place: Place, rows: Sequence[CoverageSummary]) -> CoverageSummary:
    """The place's own line: the sum of its children's (or its carers') lines."""

    def add(name: str) -> int:
        return sum(getattr(r, name) for r in rows)

    return CoverageSummary(
        key=place.path,
        place=place,
        carer_name="",
        households=add("households"),
        never=add("never"),
        overdue=add("overdue"),
        due_soon=add("due_soon"),
        ok=add("ok"),
        vulnerable=add("vulnerable"),
        vulnerable_overdue=add("vulnerable_overdue"),
        visited_in_period=add("visited_in_period"),
    )


def count_in(total: CoverageSummary, statuses: tuple[str, ...]) -> int:
    """How many households of ``total`` are in any of ``statuses`` (a coverage list's count)."""
    counts = {
        "never": total.never,
        "overdue": total.overdue,
        "due_soon": total.due_soon,
        "ok": total.ok,  # ok and none together
        "none": 0,
    }
    return sum(counts[s] for s in statuses)


@dataclass
class Building:
    """One row of the building view: a building (or courtyard) and its households' cells."""

    path: str
    name: str
    cells: list[CoverageRow] = field(default_factory=list)

    @property
    def red(self) -> int:
        return sum(1 for c in self.cells if c.status in ("overdue", "never"))


def coverage_by_building(rows: Sequence[CoverageRow]) -> list[Building]:
    """The households' rows grouped under their building or courtyard, in path order."""
    found: dict[str, Building] = {}
    for row in sorted(rows, key=lambda r: r.path):
        key = row.path[:-4]
        if key not in found:
            found[key] = Building(path=key, name=row.building or "—")
        found[key].cells.append(row)
    return list(found.values())


@dataclass(frozen=True)
class VisitsHome:
    """What the visits home page shows its reader: the places whose coverage it may see (the
    first 20), and whether it cares for households itself."""

    places: list[Place]
    is_carer: bool


def visits_home(actor: Actor) -> VisitsHome | None:
    """The reader's way into visits, or ``None`` for a role that has no visits to do."""
    scope = scope_for(actor)
    is_carer = bool(scope.roles() & CARER_ROLES) and scope.person_id is not None
    if not (scope.holds_anywhere(VisitCap.VIEW_COVERAGE) or is_carer):
        return None
    roots = places_rooted(actor, VisitCap.VIEW_COVERAGE)
    return VisitsHome(places=list(roots.order_by("depth", "path")[:20]), is_carer=is_carer)
