"""A generated city for benchmarks (``linli gen-city``): a place tree under its own code
prefix, departments with liaison accounts, and many needs with their whole timelines over
several years, written with PostgreSQL ``COPY``.

Each need's life is planned as a list of events in time (submitted, accepted, whistled,
checked in, resolved, rated, reopened, closed, overdue, escalated, merged…), cut at the
present; the need's status, dates, dispatches and ratings are replayed from the events that
are kept, so every need's row agrees with its timeline. The roll-ups of the three rates are
then rebuilt from the timeline (``rollup_rebuild``), so ``rates_for`` equals
``rates_recompute`` by the same rules as for real needs.

Ids are reserved from the tables' sequences in blocks, so the rows can point at each other
(an event's ``data.dispatch``, a duplicate's ``merged_into``) before they are written.
Not for production data: the generator writes below the services, without audit entries.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from linli.accounts.models import User
from linli.core.access import Role
from linli.core.text import normalize
from linli.needs import rates
from linli.needs.models import (
    Category,
    Channel,
    Dispatch,
    EventKind,
    HandlingLevel,
    Level,
    Need,
    NeedEvent,
    NeedReporter,
    Rating,
    Status,
    Urgency,
)
from linli.people.models import Department, DepartmentKind, Household, Membership, Person
from linli.places.models import Place, PlaceKind
from linli.places.services import TreeBuilder
from linli.workdays.models import LimitUnit

HOUR = 3600.0
DAY = 86400.0
#: Working days are stretched to calendar time (5 working days a week); close enough here.
WORKDAY = DAY * 7 / 5
COMMUNITIES_PER_STREET = 5
STREETS_PER_DISTRICT = 3
HOUSEHOLDS_PER_BUILDING = 24
#: Departments every district gets (the issue's list), with a liaison account each.
DISTRICT_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    (DepartmentKind.WATER, "水务"),
    (DepartmentKind.POWER, "供电"),
    (DepartmentKind.GAS, "燃气"),
    (DepartmentKind.TELECOM, "通信"),
    (DepartmentKind.HOUSING, "房管"),
    (DepartmentKind.PROPERTY, "物业"),
    (DepartmentKind.CITY_MANAGEMENT, "城管"),
)
CHUNK = 10_000


class CityExists(Exception):
    """The city code is taken (use ``--reset`` to drop the generated city first)."""


@dataclass(frozen=True)
class CitySpec:
    """What to generate. Streets and districts follow from the number of communities."""

    code: str = "gen"
    communities: int = 20
    grids_per_community: int = 8
    households_per_grid: int = 300
    needs: int = 100_000
    years: int = 3
    seed: int = 1

    @property
    def streets(self) -> int:
        return max(1, math.ceil(self.communities / COMMUNITIES_PER_STREET))

    @property
    def districts(self) -> int:
        return max(1, math.ceil(self.streets / STREETS_PER_DISTRICT))


@dataclass
class Target:
    """A place a need can be reported at, with what the need copies from it."""

    place_id: int
    path: str
    grid_id: int
    district_id: int
    community_index: int


@dataclass
class CityTree:
    city: Place
    districts: list[Place]
    communities: list[Place]
    grids: list[Place]
    targets: list[Target]
    departments: dict[int, dict[str, int]]  # district id → department kind → department id
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    """What was written, and how long each phase took (seconds)."""

    places: int = 0
    households: int = 0
    departments: int = 0
    needs: int = 0
    events: int = 0
    reporters: int = 0
    dispatches: int = 0
    ratings: int = 0
    rollups: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.needs + self.events + self.reporters + self.dispatches + self.ratings


# --- the tree -------------------------------------------------------------------------------


def city_exists(code: str) -> bool:
    return Place.objects.filter(code=code).exists()


def build_tree(spec: CitySpec) -> CityTree:
    """The place tree, its households and the districts' departments with liaison accounts."""
    rng = random.Random(spec.seed)  # noqa: S311 (generated data, not secrets)
    builder = TreeBuilder()
    city = builder.add(None, code=spec.code, name=f"生成市{spec.code}", kind=PlaceKind.CITY)
    districts = [
        builder.add(city, code=f"{spec.code}-d{d}", name=f"第{d}区", kind=PlaceKind.DISTRICT)
        for d in range(1, spec.districts + 1)
    ]
    streets = [
        builder.add(
            districts[(s - 1) // STREETS_PER_DISTRICT],
            code=f"{spec.code}-s{s}",
            name=f"第{s}街道",
            kind=PlaceKind.STREET,
        )
        for s in range(1, spec.streets + 1)
    ]
    communities: list[Place] = []
    grids: list[Place] = []
    buildings: list[tuple[Place, int]] = []
    households: list[tuple[Place, int]] = []
    per_building = min(HOUSEHOLDS_PER_BUILDING, max(1, spec.households_per_grid))
    for c in range(1, spec.communities + 1):
        community = builder.add(
            streets[(c - 1) // COMMUNITIES_PER_STREET],
            code=f"{spec.code}-c{c}",
            name=f"第{c}社区",
            kind=PlaceKind.COMMUNITY,
        )
        communities.append(community)
        for g in range(1, spec.grids_per_community + 1):
            grid = builder.add(community, code=f"{community.code}-g{g}", name=f"第{g}网格", kind=PlaceKind.GRID)
            grids.append(grid)
            left = spec.households_per_grid
            b = 0
            while left > 0:
                b += 1
                building = builder.add(grid, code=f"{grid.code}-b{b}", name=f"{b}栋", kind=PlaceKind.BUILDING)
                buildings.append((building, len(grids) - 1))
                for h in range(min(per_building, left)):
                    floor, door = divmod(h, 4)
                    households.append(
                        (
                            builder.add(
                                building,
                                code=f"{building.code}-{floor + 1}0{door + 1}",
                                name=f"{floor + 1}0{door + 1}室",
                                kind=PlaceKind.HOUSEHOLD,
                            ),
                            len(grids) - 1,
                        )
                    )
                left -= per_building
    created = builder.save()
    Household.objects.bulk_create(
        [
            Household(
                place=place,
                tenure=rng.choice(["owner", "owner", "owner", "tenant", "resident"]),
                floor_area=Decimal(rng.randrange(45, 140)),
            )
            for place, _ in households
        ],
        batch_size=2000,
    )
    district_by_path = {d.path: d for d in districts}

    def target(place: Place, grid_index: int) -> Target:
        grid = grids[grid_index]
        district = district_by_path[place.path[: 2 * Place.steplen]]
        return Target(place.pk, place.path, grid.pk, district.pk, grid_index // spec.grids_per_community)

    targets = [target(p, gi) for p, gi in households]
    targets += [target(p, gi) for p, gi in buildings]
    targets += [target(g, gi) for gi, g in enumerate(grids)]
    departments = _departments(spec, districts)
    tree = CityTree(city, districts, communities, grids, targets, departments)
    tree.counts = {
        "places": len(created),
        "households": len(households),
        "departments": sum(len(v) for v in departments.values()),
    }
    return tree


def _departments(spec: CitySpec, districts: Sequence[Place]) -> dict[int, dict[str, int]]:
    """Seven departments per district, each with one liaison (an account without a usable
    password: the generated city is for benchmarks, not for signing in)."""
    found: dict[int, dict[str, int]] = {}
    for district in districts:
        found[district.pk] = {}
        for kind, label in DISTRICT_DEPARTMENTS:
            department = Department.objects.create(
                code=f"{district.code}-{kind}", name=f"{district.name}{label}", kind=kind, place=district
            )
            found[district.pk][kind] = department.pk
            user = User.objects.create(
                username=f"{department.code}-liaison", password=make_password(None), display_name=f"{label}联络人"
            )
            person = Person.objects.create(place=district, name=f"{label}联络人", user=user)
            Membership.objects.create(person=person, place=district, role=Role.LIAISON, department=department)
    return found


# --- the needs ------------------------------------------------------------------------------


class IdBlocks:
    """Ids reserved from a table's sequence in blocks (nothing else writes the generated
    city's rows meanwhile; concurrent writers elsewhere only skip the reserved ids)."""

    def __init__(self, table: str, block: int = 50_000) -> None:
        self.table, self.block = table, block
        self._next, self._end = 0, -1

    def take(self) -> int:
        if self._next > self._end:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
                    [self.table, self.table, self.block - 1],
                )
                (end,) = cursor.fetchone()
            self._next, self._end = end - self.block + 1, end
        taken = self._next
        self._next += 1
        return taken


@dataclass(frozen=True)
class Kind:
    """A category as the generator needs it: limits in seconds and texts."""

    pk: int
    code: str
    level: str
    department_kind: str
    response: float
    checkin: float
    resolution: float
    texts: tuple[tuple[str, str], ...]  # (text, normalised text)


def _seconds(amount: int, unit: str) -> float:
    return amount * (HOUR if unit == LimitUnit.HOURS else WORKDAY)


def load_kinds() -> list[Kind]:
    kinds = []
    for c in Category.objects.filter(active=True, city__isnull=True).order_by("code"):
        texts = tuple((t, normalize(t)) for t in (c.examples or [c.name]))
        kinds.append(
            Kind(
                c.pk,
                c.code,
                c.level,
                c.department_kind,
                _seconds(c.response_limit, c.response_unit),
                _seconds(c.checkin_limit, c.checkin_unit),
                _seconds(c.resolution_limit, c.resolution_unit),
                texts,
            )
        )
    return kinds


# what each kind of event does to the need's status (None: nothing)
_STATUS_AFTER: dict[str, str | None] = {
    EventKind.SUBMITTED: Status.SUBMITTED,
    EventKind.ACCEPTED: Status.ACCEPTED,
    EventKind.WHISTLED: Status.WHISTLED,
    EventKind.REOPENED: Status.ACCEPTED,
    EventKind.CLOSED: Status.CLOSED,
    EventKind.MERGED: Status.MERGED,
}
_NEXT_LEVEL: dict[str, str] = {Level.GRID: Level.COMMUNITY, Level.COMMUNITY: Level.STREET, Level.STREET: Level.DISTRICT}


@dataclass
class Ev:
    at: float
    kind: str
    department: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    resolution_due: float | None = None  # the need's resolution deadline from this event on
    level: str | None = None  # the need's level from this event on
    dispatch: int | None = None  # the dispatch this event moves
    reporter: int | None = None  # a rating's reporter


@dataclass
class PlannedDispatch:
    pk: int
    department: int
    is_lead: bool
    whistled_at: float
    checkin_due: float
    resolution_due: float


@dataclass
class Rows:
    needs: list[tuple[Any, ...]] = field(default_factory=list)
    reporters: list[tuple[Any, ...]] = field(default_factory=list)
    dispatches: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    ratings: list[tuple[Any, ...]] = field(default_factory=list)


_UTC = dt.UTC


def _when(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, _UTC)


class Planner:
    """Plans needs one by one (deterministic for a seed) and turns them into rows."""

    def __init__(self, spec: CitySpec, tree: CityTree, kinds: Sequence[Kind], now: dt.datetime) -> None:
        if not kinds:
            raise ValueError("the catalogue is empty: linli catalogue load-defaults")
        self.rng = random.Random(spec.seed * 7919 + 1)  # noqa: S311 (generated data, not secrets)
        self.tree, self.kinds = tree, list(kinds)
        self.now = now.timestamp()
        self.start = self.now - spec.years * 365 * DAY
        self.ids = {
            name: IdBlocks(model._meta.db_table)
            for name, model in (
                ("need", Need),
                ("reporter", NeedReporter),
                ("dispatch", Dispatch),
                ("event", NeedEvent),
                ("rating", Rating),
            )
        }
        self.dept_kinds = [k for k, _ in DISTRICT_DEPARTMENTS]

    # -- one need --------------------------------------------------------------------------

    def _exp(self, mean: float) -> float:
        return self.rng.expovariate(1 / mean)

    def plan(self, rows: Rows) -> int:
        """Plan one need (and perhaps a duplicate merged into it); append its rows. Returns
        the number of needs written (1 or 2)."""
        rng = self.rng
        t0 = self.start + rng.random() * (self.now - HOUR - self.start)
        kind = rng.choice(self.kinds)
        target = rng.choice(self.tree.targets)
        urgency = Urgency.NORMAL
        roll = rng.random()
        if roll < 0.01:
            urgency = Urgency.EMERGENCY
        elif roll < 0.05:
            urgency = Urgency.URGENT
        response_s, checkin_s, resolution_s = kind.response, kind.checkin, kind.resolution
        if urgency == Urgency.EMERGENCY:
            response_s, checkin_s, resolution_s = 2 * HOUR, 2 * HOUR, 24 * HOUR
        need_id = self.ids["need"].take()
        reporter_ids = [self.ids["reporter"].take()]
        channel = rng.choice([Channel.RESIDENT] * 5 + [Channel.QR, Channel.STAFF, Channel.VISIT, Channel.API])
        text, text_search = rng.choice(kind.texts)
        evs: list[Ev] = [
            Ev(
                t0,
                EventKind.SUBMITTED,
                data={
                    "channel": channel,
                    "suggested": [[kind.code, round(0.5 + rng.random() / 2, 3)]],
                    "duplicates": [],
                },
                resolution_due=t0 + resolution_s,
                level=Level.COMMUNITY if kind.level == HandlingLevel.COMMUNITY else Level.GRID,
            )
        ]
        response_due = t0 + response_s
        resolution_due = t0 + resolution_s
        level = evs[0].level or Level.GRID
        dispatches: list[PlannedDispatch] = []

        # a duplicate reported soon after, merged into this need before anyone accepted it
        duplicate: tuple[int, float, float, int] | None = None
        if rng.random() < 0.03:
            d_at = t0 + rng.uniform(0.2, 2) * HOUR
            merged_at = d_at + rng.uniform(0.1, 1) * HOUR
            if merged_at < self.now:
                duplicate = (self.ids["need"].take(), d_at, merged_at, self.ids["reporter"].take())
                reporter_ids.append(duplicate[3])
                evs.append(Ev(merged_at, EventKind.JOINED, data={"from": duplicate[0], "reporters": 1}))
        earliest_resolution = (duplicate[2] + HOUR) if duplicate else t0

        # acceptance: a few needs are never picked up (they go overdue and are escalated)
        stalled = rng.random() < 0.004
        accept_at = t0 + (self._exp(0.3 * HOUR) if urgency == Urgency.EMERGENCY else self._exp(5 * HOUR))
        if stalled:
            accept_at = t0 + 3 * 365 * DAY
            if response_due + 600 < self.now:
                level = _NEXT_LEVEL.get(level, level)
                evs.append(Ev(response_due + 600, EventKind.OVERDUE, data={"deadline": "response"}))
                evs.append(Ev(response_due + 600, EventKind.ESCALATED, data={"to": level, "why": "overdue:response"}))
                evs[-1].level = level
        whistle = kind.level == HandlingLevel.DEPARTMENT or rng.random() < 0.1
        if whistle:
            # need_whistle accepts a submitted need by the same act
            evs.append(Ev(accept_at, EventKind.ACCEPTED, data={"first": True, "on_time": accept_at <= response_due}))
            whistle_at = accept_at
            district = self.tree.departments[target.district_id]
            wanted = [kind.department_kind or rng.choice(self.dept_kinds)]
            if rng.random() < 0.15:
                wanted.append(rng.choice([k for k in self.dept_kinds if k != wanted[0]]))
            resolved_times = []
            for n, dk in enumerate(wanted):
                dispatch = PlannedDispatch(
                    self.ids["dispatch"].take(),
                    district[dk],
                    n == 0,
                    whistle_at,
                    whistle_at + checkin_s,
                    whistle_at + resolution_s,
                )
                dispatches.append(dispatch)
                resolution_due = max(resolution_due, dispatch.resolution_due)
                evs.append(
                    Ev(
                        whistle_at,
                        EventKind.WHISTLED,
                        department=dispatch.department,
                        data={"lead": dispatch.is_lead, "dispatch": dispatch.pk},
                        resolution_due=resolution_due,
                        dispatch=dispatch.pk,
                    )
                )
                checkin_at = whistle_at + self._exp(checkin_s / 3)
                if checkin_at > dispatch.checkin_due + 600:
                    evs.append(
                        Ev(
                            dispatch.checkin_due + 600,
                            EventKind.OVERDUE,
                            department=dispatch.department,
                            data={"deadline": "checkin"},
                        )
                    )
                evs.append(
                    Ev(
                        checkin_at,
                        EventKind.CHECKED_IN,
                        department=dispatch.department,
                        data={"on_time": checkin_at <= dispatch.checkin_due, "dispatch": dispatch.pk},
                        dispatch=dispatch.pk,
                    )
                )
                done_at = max(checkin_at + self._exp(resolution_s / 3), earliest_resolution)
                if stalled or rng.random() < 0.008:
                    done_at = whistle_at + 3 * 365 * DAY
                evs.append(
                    Ev(
                        done_at,
                        EventKind.RESOLVED,
                        department=dispatch.department,
                        data={"on_time": done_at <= dispatch.resolution_due, "dispatch": dispatch.pk},
                        dispatch=dispatch.pk,
                    )
                )
                resolved_times.append(done_at)
            resolved_at = max(resolved_times)
        else:
            evs.append(Ev(accept_at, EventKind.ACCEPTED, data={"first": True, "on_time": accept_at <= response_due}))
            resolved_at = max(accept_at + self._exp(resolution_s / 3), earliest_resolution)
            if stalled or rng.random() < 0.008:
                resolved_at = accept_at + 3 * 365 * DAY
        if resolved_at > resolution_due + 600 and accept_at < resolution_due and resolution_due + 600 < self.now:
            level = _NEXT_LEVEL.get(level, level)
            evs.append(Ev(resolution_due + 600, EventKind.OVERDUE, data={"deadline": "resolution"}))
            evs.append(
                Ev(
                    resolution_due + 600,
                    EventKind.ESCALATED,
                    data={"to": level, "why": "overdue:resolution"},
                    level=level,
                )
            )
        evs.append(Ev(resolved_at, EventKind.RESOLVED, data={"on_time": resolved_at <= resolution_due}))
        self._follow_up(evs, resolved_at, reporter_ids, [d.department for d in dispatches], resolution_s)

        self._emit(
            rows,
            need_id=need_id,
            t0=t0,
            kind=kind,
            text=text,
            text_search=text_search,
            target=target,
            channel=channel,
            urgency=urgency,
            response_due=response_due,
            evs=evs,
            dispatches=dispatches,
            reporter_ids=reporter_ids,
            joined={duplicate[3]: (duplicate[0], duplicate[2])} if duplicate else {},
        )
        if duplicate is None:
            return 1
        dup_id, d_at, merged_at, _reporter = duplicate
        dup_evs = [
            Ev(
                d_at,
                EventKind.SUBMITTED,
                data={"channel": channel, "suggested": [], "duplicates": [[need_id, 0.8]]},
                resolution_due=d_at + resolution_s,
                level=Level.GRID,
            ),
            Ev(merged_at, EventKind.MERGED, data={"into": need_id}),
        ]
        self._emit(
            rows,
            need_id=dup_id,
            t0=d_at,
            kind=kind,
            text=text,
            text_search=text_search,
            target=target,
            channel=channel,
            urgency=urgency,
            response_due=d_at + response_s,
            evs=dup_evs,
            dispatches=[],
            reporter_ids=[],
            merged_into=need_id,
        )
        return 2

    def _follow_up(
        self,
        evs: list[Ev],
        resolved_at: float,
        reporters: Sequence[int],
        departments: Sequence[int],
        resolution_s: float,
    ) -> None:
        """Ratings, then closing (or reopening once after an unsatisfied answer)."""
        rng = self.rng
        departments_rated = sorted(set(departments))
        for round_ in (1, 2):
            answers: list[tuple[float, str]] = []
            unsatisfied = False
            for reporter in reporters:
                roll = rng.random()
                satisfaction = "satisfied" if roll < 0.8 else "basic" if roll < 0.94 else "unsatisfied"
                if round_ == 2 and satisfaction == "unsatisfied":
                    satisfaction = "basic"
                if satisfaction != "unsatisfied" and rng.random() < 0.15:
                    continue  # never answers
                unsatisfied |= satisfaction == "unsatisfied"
                at = resolved_at + min(self._exp(DAY), 6 * DAY)
                answers.append((at, satisfaction))
                evs.append(
                    Ev(
                        at,
                        EventKind.RATED,
                        data={
                            "resolved": satisfaction != "unsatisfied" or rng.random() < 0.3,
                            "satisfaction": satisfaction,
                            "departments": departments_rated,
                            "channel": rng.choice(["sms", "sms", "app", "phone"]),
                            "round": round_,
                        },
                        reporter=reporter,
                    )
                )
            complete = len(answers) == len(reporters)
            # the sweep closes (or, after an unsatisfied answer, reopens) a week after resolution
            last = max(at for at, _ in answers) if complete else resolved_at + 7 * DAY + HOUR
            if not unsatisfied:
                data: dict[str, Any] = {"round": round_}
                if not complete:
                    data["unrated"] = len(reporters) - len(answers)
                evs.append(Ev(last, EventKind.CLOSED, data=data))
                return
            evs.append(Ev(last, EventKind.REOPENED, resolution_due=last + resolution_s))
            resolved_at = last + self._exp(resolution_s / 3)
            evs.append(Ev(resolved_at, EventKind.RESOLVED, data={"on_time": resolved_at <= last + resolution_s}))

    def _emit(
        self,
        rows: Rows,
        *,
        need_id: int,
        t0: float,
        kind: Kind,
        text: str,
        text_search: str,
        target: Target,
        channel: str,
        urgency: str,
        response_due: float,
        evs: list[Ev],
        dispatches: Sequence[PlannedDispatch],
        reporter_ids: Sequence[int],
        joined: dict[int, tuple[int, float]] | None = None,
        merged_into: int | None = None,
    ) -> None:
        """Cut the timeline at the present, replay it into the need's row, its dispatches and
        ratings, and append every row."""
        evs = sorted((e for e in evs if e.at <= self.now), key=lambda e: e.at)
        status: str = Status.SUBMITTED
        level: str = Level.GRID
        resolution_due = t0
        accepted_at = resolved_at = closed_at = None
        reopen_count = 0
        dispatch_state: dict[int, list[Any]] = {
            d.pk: [d, "whistled", None, None] for d in dispatches if any(e.dispatch == d.pk for e in evs)
        }
        event_id = self.ids["event"]
        place_path, district = target.path, target.district_id
        for e in evs:
            before = status
            status = _STATUS_AFTER.get(e.kind) or status
            if e.resolution_due is not None:
                resolution_due = e.resolution_due
            if e.level is not None:
                level = e.level
            at = _when(e.at)
            if e.kind == EventKind.ACCEPTED and accepted_at is None:
                accepted_at = at
            elif e.kind == EventKind.RESOLVED and e.department is None:
                status = Status.RESOLVED
                resolved_at = at
            elif e.kind == EventKind.CLOSED:
                closed_at = at
            elif e.kind == EventKind.REOPENED or (e.kind == EventKind.ESCALATED and e.data.get("why") == "unsatisfied"):
                reopen_count += 1
            if e.dispatch is not None:
                state = dispatch_state[e.dispatch]
                if e.kind == EventKind.CHECKED_IN:
                    state[1], state[2] = "checked_in", at
                elif e.kind == EventKind.RESOLVED:
                    state[1], state[3] = "resolved", at
            if e.kind == EventKind.RATED and e.reporter is not None:
                rows.ratings.append(
                    (
                        self.ids["rating"].take(),
                        need_id,
                        e.reporter,
                        e.data["round"],
                        e.data["resolved"],
                        e.data["satisfaction"],
                        "",
                        e.data["channel"],
                        None,
                        at,
                    )
                )
            rows.events.append(
                (
                    event_id.take(),
                    need_id,
                    at,
                    e.kind,
                    None,
                    "gen-city",
                    e.department,
                    before,
                    status,
                    "",
                    json.dumps(e.data, ensure_ascii=False),
                    place_path,
                    district,
                )
            )
        result = "已处理完毕" if resolved_at is not None else ""
        rows.needs.append(
            (
                need_id,
                _when(t0),
                _when(evs[-1].at),
                uuid.UUID(int=self.rng.getrandbits(128), version=4),
                text,
                text_search,
                kind.pk,
                True,
                target.place_id,
                place_path,
                target.grid_id,
                district,
                "",
                channel,
                urgency,
                status,
                level,
                _when(response_due),
                _when(resolution_due),
                accepted_at,
                resolved_at,
                closed_at,
                result,
                reopen_count,
                merged_into,
                max(1, len(reporter_ids)),
            )
        )
        for n, reporter in enumerate(reporter_ids):
            came_from, joined_at = (joined or {}).get(reporter, (None, t0))
            phone = f"+86138{self.rng.randrange(10**8):08d}" if self.rng.random() < 0.7 else ""
            rows.reporters.append(
                (reporter, need_id, None, None, f"居民{need_id % 1000 + n}", phone, _when(joined_at), came_from)
            )
        if merged_into is not None:
            # the duplicate's reporter was moved to the need it repeats; nothing else to write
            return
        for d, state, checked_in_at, done_at in dispatch_state.values():
            rows.dispatches.append(
                (
                    d.pk,
                    need_id,
                    d.department,
                    d.is_lead,
                    state,
                    _when(d.whistled_at),
                    None,
                    _when(d.checkin_due),
                    checked_in_at,
                    None,
                    _when(d.resolution_due),
                    done_at,
                    "已处理" if done_at else "",
                    "",
                    "",
                )
            )


_COPY: dict[str, tuple[str, tuple[str, ...]]] = {
    "needs": (
        Need._meta.db_table,
        (
            "id",
            "created_at",
            "updated_at",
            "token",
            "text",
            "text_search",
            "category_id",
            "category_confirmed",
            "place_id",
            "place_path",
            "grid_id",
            "district_id",
            "address_string",
            "channel",
            "urgency",
            "status",
            "level",
            "response_due",
            "resolution_due",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "result",
            "reopen_count",
            "merged_into_id",
            "heat",
        ),
    ),
    "reporters": (
        NeedReporter._meta.db_table,
        ("id", "need_id", "person_id", "user_id", "name", "phone", "joined_at", "original_need_id"),
    ),
    "dispatches": (
        Dispatch._meta.db_table,
        (
            "id",
            "need_id",
            "department_id",
            "is_lead",
            "status",
            "whistled_at",
            "whistled_by_id",
            "checkin_due",
            "checked_in_at",
            "checked_in_by_id",
            "resolution_due",
            "resolved_at",
            "result",
            "return_reason",
            "note",
        ),
    ),
    "events": (
        NeedEvent._meta.db_table,
        (
            "id",
            "need_id",
            "at",
            "kind",
            "actor_id",
            "actor_name",
            "department_id",
            "from_status",
            "to_status",
            "note",
            "data",
            "place_path",
            "district_id",
        ),
    ),
    "ratings": (
        Rating._meta.db_table,
        (
            "id",
            "need_id",
            "reporter_id",
            "round",
            "resolved",
            "satisfaction",
            "comment",
            "channel",
            "recorded_by_id",
            "at",
        ),
    ),
}


def _copy(rows: Rows) -> None:
    """Write one chunk in one transaction (the foreign keys are deferred to its end)."""
    raw = connection.connection
    assert raw is not None
    with transaction.atomic(), raw.cursor() as cursor:
        for name, (table, columns) in _COPY.items():
            batch: list[tuple[Any, ...]] = getattr(rows, name)
            if not batch:
                continue
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)


def generate_needs(
    spec: CitySpec,
    tree: CityTree,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> Report:
    """Plan and COPY ``spec.needs`` needs (duplicates merged into others count) with their
    timelines, in chunks of about ``chunk`` needs, one transaction each."""
    connection.ensure_connection()
    planner = Planner(spec, tree, load_kinds(), now or dt.datetime.now(_UTC))
    report = Report()
    done = 0
    while done < spec.needs:
        rows = Rows()
        made = 0
        while made < chunk and done + made < spec.needs:
            made += planner.plan(rows)
        _copy(rows)
        done += made
        report.needs += len(rows.needs)
        report.events += len(rows.events)
        report.reporters += len(rows.reporters)
        report.dispatches += len(rows.dispatches)
        report.ratings += len(rows.ratings)
        if progress is not None:
            progress(made)
    return report


def gen_city(
    spec: CitySpec,
    *,
    reset: bool = False,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Generate the whole city: tree, departments, needs (``progress`` is called with the
    number of needs of each chunk written), then the roll-ups, rebuilt for the days the
    needs span. Refuses an existing code unless ``reset``."""
    from linli.needs.catalogue import catalogue_load_defaults

    if city_exists(spec.code):
        if not reset:
            raise CityExists(spec.code)
        city_reset(spec.code)
    if not Category.objects.filter(city__isnull=True, active=True).exists():
        catalogue_load_defaults()
    started = time.perf_counter()
    with transaction.atomic():
        tree = build_tree(spec)
    report = Report(
        places=tree.counts["places"], households=tree.counts["households"], departments=tree.counts["departments"]
    )
    report.seconds["tree"] = time.perf_counter() - started

    started = time.perf_counter()
    needs = generate_needs(spec, tree, now=now, progress=progress)
    report.seconds["needs"] = time.perf_counter() - started
    for name in ("needs", "events", "reporters", "dispatches", "ratings"):
        setattr(report, name, getattr(needs, name))

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Need._meta.db_table}, {NeedEvent._meta.db_table}, {Dispatch._meta.db_table}")
    report.seconds["analyze"] = time.perf_counter() - started
    started = time.perf_counter()
    first = (now or dt.datetime.now(_UTC)) - dt.timedelta(days=spec.years * 365 + 2)
    report.rollups = rates.rollup_rebuild(start=rates.local_day(first))
    report.seconds["rollup_rebuild"] = time.perf_counter() - started
    return report


# --- reset ----------------------------------------------------------------------------------


def city_reset(code: str) -> None:
    """Drop a generated city: its needs (with their timelines, past the append-only trigger),
    roll-ups, departments and their liaisons, households and places. For generated cities
    only: a real city keeps its history."""
    import pgtrigger

    city = Place.objects.filter(code=code).first()
    if city is None:
        return
    like = rates._like_prefix(city.path)
    departments = list(Department.objects.filter(place__path__startswith=city.path).values_list("pk", flat=True))
    need_ids = f"SELECT id FROM {Need._meta.db_table} WHERE place_path LIKE %s"  # noqa: S608 (constants only)
    with transaction.atomic(), pgtrigger.ignore("needs.NeedEvent:need_event_append_only"):
        with connection.cursor() as cursor:
            for model in (Rating, Dispatch, NeedReporter, NeedEvent):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE need_id IN ({need_ids})",  # noqa: S608
                    [like],
                )
            cursor.execute(
                "DELETE FROM needs_deadlineaction WHERE need_id IN (" + need_ids + ")",  # noqa: S608
                [like],
            )
            cursor.execute(
                "DELETE FROM needs_needphoto WHERE need_id IN (" + need_ids + ")",  # noqa: S608
                [like],
            )
            # one statement: a duplicate and the need it was merged into go together
            cursor.execute(f"DELETE FROM {Need._meta.db_table} WHERE place_path LIKE %s", [like])  # noqa: S608
        from linli.needs.models import RateRollup

        RateRollup.objects.filter(place__path__startswith=city.path).delete()
        RateRollup.objects.filter(department__in=departments).delete()
        liaisons = Membership.objects.filter(place__path__startswith=city.path)
        people = Person.objects.filter(place__path__startswith=city.path)
        users = list(people.exclude(user=None).values_list("user_id", flat=True))
        liaisons.delete()
        from linli.accounts.models import ApiClient

        ApiClient.objects.filter(user_id__in=users).delete()
        from linli.people.models import HouseholdMember

        HouseholdMember.objects.filter(household__place__path__startswith=city.path).delete()
        people.delete()
        User.objects.filter(pk__in=users).delete()
        Department.objects.filter(pk__in=departments).delete()
        Household.objects.filter(place__path__startswith=city.path).delete()
        Place.objects.filter(path__startswith=city.path).delete()
