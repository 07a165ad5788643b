"""Demo visits: carers (党员中心户, 楼栋长) with their assigned households (包保), visit policies,
households out by day, six months of door-knocking, care, festival and night visits (天天敲门,
夜访), opinions heard and policies explained on the doorstep, and the night rounds of Linfeng's
courtyard party group led by 何兆品 (seed 003).

Every household of the demo has a carer of its grid, about ten each, except a few newly moved-in
ones. Most carers keep to their community's policy; some are slack, a few stopped visiting weeks
ago, and a few have just been given households they have not visited yet: so coverage shows
overdue and never-visited households, vulnerable ones first. The ``partyhead`` demo account's
households show each case.

Thirty thousand visits through ``visit_log`` would take minutes, so 常二社区, where the tour's
carers, grid worker and secretary work, is built through the services with simulated clocks
(roles, assignments, a handover, out-by-day marks, and the visits of the last
:data:`RECENT_DAYS` days, some raising needs); the secretaries of 常二 and 林峰 set their policies
and 林峰's night rounds are planned through the services too. The older visits and the other
communities are written in bulk with the same shapes (``COPY``), and ``visits_refresh_care``
then recomputes the kept last-visit times. Everything is drawn from one ``random.Random(seed)``.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.core.access import SYSTEM, Actor, Role, under
from linli.core.audit import audit_record
from linli.core.data import read_data
from linli.core.models import AuditEntry
from linli.core.notify import drop_pending
from linli.people.models import Household, HouseholdMember, Membership, Person, Relation, Vulnerability
from linli.people.services import membership_grant
from linli.places.models import Place, PlaceKind
from linli.visits import services
from linli.visits.capabilities import CARER_ROLES
from linli.visits.models import (
    COMMUNITY_PATH_LEN,
    EVERYONE,
    OUT_BY_DAY,
    CareAssignment,
    HouseholdCare,
    NightRound,
    Opinion,
    OpinionStatus,
    Visit,
    VisitKind,
    VisitTag,
)

DATA = read_data("linli.visits", "demo")
TEXTS: dict[str, str] = DATA["texts"]
#: How far back the visit history goes.
DAYS_BACK = 183
#: Visits of the last days in the communities built through the services are logged with
#: ``visit_log``; older ones are written in bulk.
RECENT_DAYS = 14
#: Communities built through the services: the tour's carers, grid worker and secretary work there.
SERVICE_COMMUNITIES: tuple[str, ...] = tuple(DATA["service_communities"])
#: Households a carer looks after (包保), about.
PER_CARER = 10
#: The grid of Linfeng's courtyards, where 何兆品's courtyard party group makes its night rounds.
NIGHT_ROUND_GRID: str = DATA["night_round_grid"]
NIGHT_ROUND_EVERY = 12  # days
#: The grid of the tour's carers (``partyhead``, ``leader``) and of the ``grid`` account.
TOUR_GRID: str = DATA["tour_grid"]

#: (key, label) of the counts the demo summary prints.
COUNT_LABELS: tuple[tuple[str, Any], ...] = (
    ("carers", gettext_lazy("包保人")),
    ("assignments", gettext_lazy("包保关系")),
    ("out_by_day", gettext_lazy("白天不在家的住户")),
    ("visits", gettext_lazy("走访记录")),
    ("night_visits", gettext_lazy("其中夜访")),
    ("not_at_home", gettext_lazy("其中不在家")),
    ("opinions", gettext_lazy("居民心声")),
    ("night_rounds", gettext_lazy("夜访安排")),
    ("never", gettext_lazy("从未走访的住户")),
    ("overdue", gettext_lazy("逾期未访的住户")),
    ("due_soon", gettext_lazy("即将到期的住户")),
)


@dataclass
class _Carer:
    person: Person
    grid: str
    building: str | None  # a carer whose role is held at a building looks after that building only
    role: str = Role.CENTRAL_HOUSEHOLD
    home_code: str = ""
    profile: str = "good"  # good, slack, lapsed
    stop_at: dt.datetime | None = None
    user: Any = None


@dataclass
class _Home:
    household: Household
    members: list[tuple[Person, str]]
    vulnerabilities: set[str]
    head_age: int
    carer: _Carer | None = None
    assigned_at: dt.datetime | None = None
    out_by_day: bool = False
    #: no visits of any kind after this; no night visits after ``night_stop_at``
    stop_at: dt.datetime | None = None
    night_stop_at: dt.datetime | None = None
    #: visits that end the history of the tour's households (a last visit at a chosen time)
    last: list[tuple[dt.datetime, str]] = field(default_factory=list)
    handover: tuple[dt.datetime, _Carer] | None = None

    @property
    def path(self) -> str:
        return self.household.place.path

    @property
    def grid(self) -> str:
        return self.path[: services.GRID_PATH_LEN]

    @property
    def building(self) -> str:
        return self.path[:-4]


@dataclass
class _Plan:
    home: _Home
    carer: _Carer
    kind: str
    at: dt.datetime
    not_at_home: bool = False
    refused: bool = False
    met: Person | None = None
    heard: str = ""
    tags: list[str] = field(default_factory=list)
    topic: str = ""
    needs_help: bool = False
    night_round: NightRound | None = None
    raise_need: str = ""
    recorded: dt.datetime | None = None


def _tz() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _age(born: dt.date | None, today: dt.date) -> int:
    if born is None:
        return 0
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _festivals(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """First days of the festivals between ``start`` and ``end`` that carers visit the elderly
    for, from the holiday calendar (``chinese-calendar``); none for years it does not know."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a dependency of the needs calendar
        return []
    found: list[tuple[dt.date, str]] = []
    day, previous = start, ""
    while day <= end:
        try:
            _holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            name = None
        label = str(name or "")
        if label in DATA["festival_notes"] and label != previous:
            found.append((day, label))
        previous = label
        day += dt.timedelta(days=1)
    return found


class _Builder:
    def __init__(self, *, seed: int, step: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)
        self.step = step
        self.now = timezone.now()
        self.tz = _tz()
        self.today = timezone.localdate()
        self.start = self.now - dt.timedelta(days=DAYS_BACK)
        self.festivals = _festivals(self.start.astimezone(self.tz).date(), self.today)
        self.users = {u.username: u for u in User.objects.filter(username__in=["secretary", "linfeng", "grid"])}
        self.password = make_password(None)
        self.bulk: list[_Plan] = []
        self.recent: list[_Plan] = []

    # --- time -----------------------------------------------------------------------------

    def at(self, moment: dt.datetime, low_minutes: int, high_minutes: int) -> dt.datetime:
        """A time of day (minutes after local midnight) on the local date of ``moment``."""
        day = moment.astimezone(self.tz).date()
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
        return midnight + dt.timedelta(minutes=self.rng.randint(low_minutes, high_minutes))

    def days_ago(self, days: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    # --- carers -----------------------------------------------------------------------------

    def carers_for(self, community: Place, homes: list[_Home], through_services: bool) -> list[_Carer]:
        """The community's carers: those who already hold the role, and enough party members
        (or, where a grid has too few, other adults as building leaders) for about ten
        households each, granted the role at their grid."""
        rng = self.rng
        home_of = {p.pk: h for h in homes for p, _r in h.members}
        existing = (
            Membership.objects.filter(
                place__path__startswith=community.path, role__in=CARER_ROLES, ended_at__isnull=True
            )
            .select_related("person__user", "place")
            .order_by("place__path", "id")
        )
        carers: list[_Carer] = []
        seen: set[int] = set()
        for membership in existing:
            if membership.person_id in seen:
                continue
            seen.add(membership.person_id)
            place = membership.place
            building = place.path if place.kind in (PlaceKind.BUILDING, PlaceKind.COURTYARD) else None
            home = home_of.get(membership.person_id)
            carers.append(
                _Carer(
                    person=membership.person,
                    grid=place.path[: services.GRID_PATH_LEN],
                    building=building,
                    role=membership.role,
                    home_code=home.household.place.code if home else "",
                )
            )
        by_grid: dict[str, list[_Home]] = {}
        for home in homes:
            by_grid.setdefault(home.grid, []).append(home)
        grids = {p.path: p for p in Place.objects.filter(path__in=list(by_grid))}
        grants: list[tuple[_Carer, Place]] = []
        if community.code == "linfeng":
            # 何兆品 leads the courtyard party group: he is a carer of the courtyards' grid
            he = next((p for h in homes for p, _r in h.members if p.name == DATA["night_round_leader"]), None)
            g4 = Place.objects.filter(code=NIGHT_ROUND_GRID).first()
            if he is not None and g4 is not None and he.pk not in seen:
                seen.add(he.pk)
                carer = _Carer(person=he, grid=g4.path, building=None, home_code=home_of[he.pk].household.place.code)
                grants.append((carer, g4))
                carers.append(carer)
        for grid_path, grid_homes in sorted(by_grid.items()):
            wanted = max(1, round(len(grid_homes) / PER_CARER))
            have = sum(1 for c in carers if c.grid == grid_path)
            if have >= wanted:
                continue
            party: list[tuple[Person, _Home]] = []
            others: list[tuple[Person, _Home]] = []
            for home in grid_homes:
                for person, _relation in home.members:
                    age = _age(person.birth_date, self.today)
                    if person.pk in seen or person.user_id or not 25 <= age <= 75:
                        continue
                    if set(person.vulnerabilities) & {"elderly_alone", "disabled", "seriously_ill"}:
                        continue
                    (party if person.party_kind else others).append((person, home))
            rng.shuffle(party)
            rng.shuffle(others)
            chosen = _spread(party, wanted - have) + _spread(others, max(0, wanted - have - len(party)))
            for person, home in chosen:
                seen.add(person.pk)
                role = Role.CENTRAL_HOUSEHOLD if person.party_kind else Role.BUILDING_LEADER
                carer = _Carer(
                    person=person, grid=grid_path, building=None, role=role, home_code=home.household.place.code
                )
                grants.append((carer, grids[grid_path]))
                carers.append(carer)
        if through_services:
            for carer, place in grants:
                membership_grant(
                    actor=SYSTEM, person=carer.person, place=place, role=carer.role, reason=TEXTS["reason"]
                )
        else:
            Membership.objects.bulk_create(
                [Membership(person=carer.person, place=place, role=carer.role) for carer, place in grants]
            )
        self._accounts_for(carers)
        for carer in carers:
            roll = rng.random()
            carer.profile = "good" if roll < 0.76 else "slack" if roll < 0.92 else "lapsed"
            if carer.profile == "lapsed":
                carer.stop_at = self.days_ago(rng.uniform(14, 50))
        return carers

    def _accounts_for(self, carers: list[_Carer]) -> None:
        """Carers log visits on their phones, so each has an account. These cannot sign in (no
        password, no phone): the tour's carers are the ``partyhead`` and ``leader`` accounts."""
        new: list[tuple[_Carer, User]] = []
        taken: set[str] = set()
        for carer in carers:
            if carer.person.user_id:
                carer.user = carer.person.user
                continue
            base = f"carer-{carer.home_code or carer.person.pk}"
            username, n = base, 1
            while username in taken:
                n += 1
                username = f"{base}-{n}"
            taken.add(username)
            new.append((carer, User(username=username, display_name=carer.person.name, password=self.password)))
        User.objects.bulk_create([u for _c, u in new])
        for carer, user in new:
            carer.person.user = user
            carer.user = user
        Person.objects.bulk_update([c.person for c, _u in new], ["user"])

    # --- one community ------------------------------------------------------------------------

    def community(self, community: Place) -> None:
        rng = self.rng
        through_services = community.code in SERVICE_COMMUNITIES
        homes = self._homes(community)
        if not homes:
            return
        carers = self.carers_for(community, homes, through_services)
        self._assign(community, homes, carers)
        tour = community.code == "hanxing-changer"
        if tour:
            self._tour_households(homes, carers)
        # out by day: working households with nobody vulnerable (more in Yangxin, seed 003)
        share = 0.30 if community.code == "linfeng" else 0.12
        courtyards = Place.objects.filter(code=NIGHT_ROUND_GRID).values_list("path", flat=True).first()
        for home in homes:
            if home.out_by_day or home.vulnerabilities or not 22 <= home.head_age <= 60:
                continue
            if home.stop_at is None and rng.random() < (0.45 if home.grid == courtyards else share):
                home.out_by_day = True
        self._write_assignments(community, homes, through_services)
        policies = services.policies_of(community)
        rounds = self._night_rounds(community, homes) if community.code == "linfeng" else []
        for home in homes:
            if home.carer is not None and home.assigned_at is not None:
                self._plan(community, home, policies, rounds)
        if through_services:
            self._raise_needs(self.recent, community, 3)

    def _homes(self, community: Place) -> list[_Home]:
        households = list(
            Household.objects.filter(place__path__startswith=community.path)
            .select_related("place")
            .order_by("place__path")
        )
        members: dict[int, list[tuple[Person, str]]] = {}
        for link in (
            HouseholdMember.objects.filter(household__in=households)
            .select_related("person")
            .order_by("household_id", "id")
        ):
            members.setdefault(link.household_id, []).append((link.person, link.relation))
        homes = []
        for household in households:
            people = members.get(household.pk, [])
            head = next((p for p, r in people if r == Relation.HEAD), people[0][0] if people else None)
            homes.append(
                _Home(
                    household=household,
                    members=people,
                    vulnerabilities={v for p, _r in people for v in p.vulnerabilities},
                    head_age=_age(head.birth_date, self.today) if head else 0,
                )
            )
        return homes

    def _assign(self, community: Place, homes: list[_Home], carers: list[_Carer]) -> None:
        """Split each grid's households among its carers in runs along the buildings, so a carer
        looks after neighbours; a few newly moved-in households have no carer yet."""
        rng = self.rng
        by_grid: dict[str, list[_Home]] = {}
        for home in homes:
            by_grid.setdefault(home.grid, []).append(home)
        for grid_path, grid_homes in by_grid.items():
            grid_carers = [c for c in carers if c.grid == grid_path]
            if not grid_carers:
                continue
            free = list(grid_homes)
            # carers whose role is held at a building look after that building: the central
            # household two shares, the building leader one, and neither their own household
            for building in sorted({c.building for c in grid_carers if c.building}):
                team = [c for c in grid_carers if c.building == building]
                own = [h for h in free if h.building == building]
                weights = [2 if c.role == Role.CENTRAL_HOUSEHOLD else 1 for c in team]
                cut, start = [], 0
                for i, weight in enumerate(weights):
                    end = len(own) if i == len(team) - 1 else start + round(len(own) * weight / sum(weights))
                    cut.append(own[start:end])
                    start = end
                for i, carer in enumerate(team):
                    mine = [h for h in cut[i] if h.household.place.code == carer.home_code]
                    other = cut[(i + 1) % len(team)]
                    for h in mine:
                        if other is not cut[i] and other:
                            swap = other.pop(0)
                            cut[i].remove(h)
                            cut[i].append(swap)
                            other.append(h)
                for carer, share in zip(team, cut, strict=True):
                    for home in share:
                        home.carer = carer
                        free.remove(home)
            open_carers = [c for c in grid_carers if not c.building] or grid_carers
            size = max(1, -(-len(free) // len(open_carers)))
            for i, home in enumerate(free):
                home.carer = open_carers[min(i // size, len(open_carers) - 1)]
        for home in homes:
            if home.carer is None:
                continue
            roll = rng.random()
            if roll < 0.01:
                home.carer = None  # moved in last month, not assigned yet
            elif roll < 0.025:
                home.assigned_at = self.days_ago(rng.uniform(3, 20))  # just assigned: not visited yet
                home.stop_at = home.assigned_at
            else:
                home.assigned_at = self.days_ago(rng.uniform(DAYS_BACK + 10, DAYS_BACK + 60))
        # in the communities built through the services one carer stepped down two months ago
        # and handed the households over to a neighbour
        if community.code in SERVICE_COMMUNITIES:
            candidates = [c for c in carers if not c.building and c.profile != "lapsed"]
            for old in candidates[1:2]:
                heirs = [c for c in carers if c.grid == old.grid and c is not old and not c.building]
                if heirs:
                    when = self.days_ago(rng.uniform(50, 70))
                    for home in homes:
                        if home.carer is old and home.assigned_at and home.assigned_at < when:
                            home.handover = (when, heirs[0])

    def _tour_households(self, homes: list[_Home], carers: list[_Carer]) -> None:
        """The ``partyhead`` account's households show each case: vulnerable ones visited on
        time, one overdue, one never visited, and one out by day due for a night visit."""
        partyhead = next((c for c in carers if c.user is not None and c.user.username == "partyhead"), None)
        if partyhead is None:
            return
        partyhead.profile, partyhead.stop_at = "good", None
        mine = [h for h in homes if h.carer is partyhead]
        for home in mine:
            home.assigned_at = self.days_ago(DAYS_BACK + 30)
            home.stop_at = None
        alone = [h for h in mine if "elderly_alone" in h.vulnerabilities]
        plain = [h for h in mine if not h.vulnerabilities and not any(p.user_id for p, _r in h.members)]
        if alone:  # overdue: last visited nine days ago (常二 visits the elderly alone every 5 days)
            alone[0].stop_at = self.days_ago(9.2)
            alone[0].last = [(self.at(self.days_ago(9), 9 * 60, 11 * 60), VisitKind.CARE)]
        if len(alone) > 1:  # never visited: just assigned
            alone[-1].assigned_at = alone[-1].stop_at = self.days_ago(6)
        if plain:  # out by day; its last night visit 28 days ago, so a night visit is due
            plain[0].out_by_day = True
            plain[0].night_stop_at = self.days_ago(28.5)
            plain[0].last = [(self.at(self.days_ago(28), 19 * 60 + 30, 20 * 60 + 30), VisitKind.NIGHT)]
        if len(plain) > 1:  # moved in recently, assigned but not visited yet
            plain[-1].assigned_at = plain[-1].stop_at = self.days_ago(10)

    def _write_assignments(self, community: Place, homes: list[_Home], through_services: bool) -> None:
        assigned = [h for h in homes if h.carer is not None and h.assigned_at is not None]
        if through_services:
            for home in assigned:
                assert home.carer is not None and home.assigned_at is not None
                services.care_assign(
                    actor=SYSTEM,
                    household=home.household,
                    carer=home.carer.person,
                    now=home.assigned_at,
                    reason=TEXTS["reason"],
                )
            for home in homes:
                if home.out_by_day:
                    services.household_care_set(actor=SYSTEM, household=home.household, out_by_day=True)
            handovers: dict[int, tuple[dt.datetime, _Carer, _Carer]] = {}
            for home in homes:
                if home.handover and home.carer:
                    handovers[home.carer.person.pk] = (home.handover[0], home.carer, home.handover[1])
            for when, old, new in handovers.values():
                services.carer_handover(
                    actor=SYSTEM, carer=old.person, to=new.person, reason=TEXTS["stepped_down"], now=when
                )
        else:
            rows = []
            for home in assigned:
                assert home.carer is not None and home.assigned_at is not None
                rows.append(
                    CareAssignment(
                        household=home.household,
                        carer=home.carer.person,
                        place_path=home.path,
                        started_at=home.assigned_at,
                    )
                )
            CareAssignment.objects.bulk_create(rows, batch_size=2000)
            HouseholdCare.objects.bulk_create(
                [HouseholdCare(household=h.household, out_by_day=True) for h in homes if h.out_by_day]
            )
            if rows:  # one entry for the community's imported assignments (the places have their own)
                audit_record(
                    actor=SYSTEM,
                    action=AuditEntry.Action.IMPORT,
                    target=rows[0],
                    place=community,
                    reason=TEXTS["reason_assignments"],
                    changes={"assignments": len(rows), "out_by_day": sum(1 for h in homes if h.out_by_day)},
                )

    # --- night rounds --------------------------------------------------------------------------

    def _night_rounds(self, community: Place, homes: list[_Home]) -> list[NightRound]:
        """何兆品's courtyard party group visits the out-by-day households of the courtyards
        every twelve days in the evening (seed 003: 群众夜归家，干部好上门); the next round is
        planned for tomorrow."""
        grid = Place.objects.filter(code=NIGHT_ROUND_GRID).first()
        if grid is None:
            return []
        actor: Actor = self.users.get("linfeng") or SYSTEM
        planned = [h for h in homes if h.grid == grid.path and h.out_by_day and h.carer is not None]
        members = list({h.carer.person.pk: h.carer.person for h in planned if h.carer}.values())
        he = Person.objects.filter(place__path__startswith=community.path, name=DATA["night_round_leader"]).first()
        if he is not None and he.pk not in {m.pk for m in members}:
            members.insert(0, he)
        if not planned or not members:
            return []
        rounds = []
        day = self.start + dt.timedelta(days=self.rng.uniform(2, NIGHT_ROUND_EVERY))
        while True:
            starts = self.at(day, 19 * 60, 19 * 60)
            night = services.night_round_create(
                actor=actor,
                place=grid,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2, minutes=30),
                members=members,
                households=[h.household for h in planned],
                note=TEXTS["courtyard_round"],
                now=min(starts - dt.timedelta(days=2), self.now),
            )
            rounds.append(night)
            if starts > self.now:  # the next round, planned
                break
            day += dt.timedelta(days=NIGHT_ROUND_EVERY)
        return rounds

    # --- the visits of one household ----------------------------------------------------------

    def _plan(
        self, community: Place, home: _Home, policies: list[tuple[str, int, bool]], rounds: list[NightRound]
    ) -> None:
        rng = self.rng
        day_interval, night_interval = _intervals(home, policies)
        if home.vulnerabilities and day_interval >= 60:
            day_interval = 30  # carers look in on the elderly and the poor more often than asked
        assert home.carer is not None and home.assigned_at is not None
        begin = max(home.assigned_at, self.start)
        end = self.now - dt.timedelta(minutes=20)
        stops = [s for s in (home.stop_at, home.carer.stop_at) if s is not None]
        if stops:
            end = min(end, *stops)
        plans: list[_Plan] = []

        def carer_at(moment: dt.datetime) -> _Carer:
            if home.handover and moment >= home.handover[0]:
                return home.handover[1]
            return home.carer  # type: ignore[return-value]

        def factor(carer: _Carer) -> float:
            return rng.uniform(0.85, 1.35) if carer.profile == "slack" else rng.uniform(0.6, 0.95)

        in_round = bool(rounds) and home.out_by_day and home.grid == rounds[0].place_path
        if home.out_by_day and night_interval:
            night_end = min(end, home.night_stop_at) if home.night_stop_at else end
            if in_round:
                for night in rounds:
                    at = night.starts_at + dt.timedelta(minutes=rng.randint(10, 140))
                    if begin <= at < night_end:
                        plans.append(self._night(home, carer_at(at), at, night))
            else:
                t = begin + dt.timedelta(days=rng.uniform(0, night_interval))
                while True:
                    at = self.at(t, 19 * 60, 21 * 60 + 30)
                    if at >= night_end:
                        break
                    if at >= begin:
                        plans.append(self._night(home, carer_at(at), at, None))
                    t = at + dt.timedelta(days=night_interval * factor(carer_at(at)))
            # by day, the door stays closed most of the time
            t = begin + dt.timedelta(days=rng.uniform(10, 80))
            while True:
                at = self.at(t, 9 * 60, 17 * 60)
                if at >= end:
                    break
                plans.append(self._day(home, carer_at(at), at, absent=rng.random() < 0.85))
                t = at + dt.timedelta(days=rng.uniform(40, 90))
        else:
            t = begin + dt.timedelta(days=rng.uniform(0, day_interval))
            while True:
                at = self.at(t, 9 * 60, 17 * 60 + 30)
                if at >= end:
                    break
                if at >= begin:
                    absent = rng.random() < 0.08
                    plans.append(self._day(home, carer_at(at), at, absent=absent))
                    if absent:  # try again in a day or three
                        t = at + dt.timedelta(days=rng.uniform(1, 3))
                        continue
                t = at + dt.timedelta(days=day_interval * factor(carer_at(at)))
        if home.vulnerabilities & {"elderly_alone", "elderly", "empty_nest", "disabled"}:
            for holiday, name in self.festivals:
                at = self.at(
                    dt.datetime.combine(holiday, dt.time(12), tzinfo=self.tz) - dt.timedelta(days=rng.randint(1, 4)),
                    9 * 60,
                    17 * 60,
                )
                if begin <= at < end:
                    carer = carer_at(at)
                    plans.append(
                        _Plan(
                            home=home,
                            carer=carer,
                            kind=VisitKind.FESTIVAL,
                            at=at,
                            met=self._met(home),
                            heard=DATA["festival_notes"][name],
                        )
                    )
        for at, kind in home.last:
            carer = carer_at(at)
            if kind == VisitKind.NIGHT:
                plans.append(self._night(home, carer, at, None))
                plans[-1].not_at_home = False
                plans[-1].met = self._met(home)
            else:
                plan = self._day(home, carer, at, absent=False)
                plan.kind = kind
                plans.append(plan)
        recent_from = self.now - dt.timedelta(days=RECENT_DAYS)
        through_services = community.code in SERVICE_COMMUNITIES
        for plan in plans:
            (self.recent if through_services and plan.at >= recent_from else self.bulk).append(plan)

    def _met(self, home: _Home) -> Person | None:
        adults = [p for p, _r in home.members if _age(p.birth_date, self.today) >= 16]
        if not adults:
            return None
        return adults[0] if self.rng.random() < 0.6 else self.rng.choice(adults)

    def _day(self, home: _Home, carer: _Carer, at: dt.datetime, *, absent: bool) -> _Plan:
        rng = self.rng
        if absent:
            return _Plan(
                home=home,
                carer=carer,
                kind=VisitKind.KNOCK,
                at=at,
                not_at_home=True,
                heard=rng.choice(DATA["not_home_notes"]),
            )
        vulnerable = bool(home.vulnerabilities)
        plan = _Plan(home=home, carer=carer, kind=VisitKind.KNOCK, at=at, met=self._met(home))
        if vulnerable:
            plan.kind = VisitKind.CARE if rng.random() < 0.5 else VisitKind.KNOCK
            if rng.random() < 0.7:
                plan.heard = rng.choice(DATA["vulnerable_notes"])
            if rng.random() < 0.004:
                plan.needs_help = True
                plan.heard = TEXTS["unwell"]
        elif rng.random() < 0.5:
            plan.heard = rng.choice(DATA["general_notes"])
        roll = rng.random()
        if roll < 0.06:
            plan.tags = [VisitTag.OPINION_HEARD]
            plan.heard = rng.choice(DATA["opinions"])
        elif roll < 0.14:
            plan.tags = [VisitTag.POLICY_EXPLAINED]
            plan.topic = rng.choice(DATA["policy_topics"])
            if not vulnerable and rng.random() < 0.5:
                plan.kind = VisitKind.POLICY
            plan.heard = plan.heard or rng.choice(DATA["policy_notes"])
        elif roll < 0.145 and not plan.needs_help:
            plan.refused, plan.met = True, None
            plan.heard = TEXTS["refused"]
        return plan

    def _night(self, home: _Home, carer: _Carer, at: dt.datetime, night: NightRound | None) -> _Plan:
        rng = self.rng
        if rng.random() < 0.12:
            return _Plan(home=home, carer=carer, kind=VisitKind.NIGHT, at=at, not_at_home=True, night_round=night)
        plan = _Plan(
            home=home,
            carer=carer,
            kind=VisitKind.NIGHT,
            at=at,
            met=self._met(home),
            heard=rng.choice(DATA["night_notes"]),
            night_round=night,
        )
        roll = rng.random()
        if roll < 0.12:  # the night visits are where residents speak up (夜访 → 向上报告居民心声)
            plan.tags, plan.heard = [VisitTag.OPINION_HEARD], rng.choice(DATA["opinions"])
        elif roll < 0.22:
            plan.tags, plan.topic = [VisitTag.POLICY_EXPLAINED], rng.choice(DATA["policy_topics"])
        return plan

    def _raise_needs(self, plans: list[_Plan], community: Place, count: int) -> None:
        """A few recent visits in the community raise a need (channel = visit); in 常二 one of
        them is the ``partyhead`` account's."""
        rng = self.rng
        candidates = [
            p
            for p in plans
            if p.home.path.startswith(community.path)
            and not p.not_at_home
            and not p.refused
            and p.at < self.now - dt.timedelta(hours=6)
        ]
        candidates.sort(key=lambda p: (p.at, p.home.path))
        tour = [p for p in candidates if p.carer.user is not None and p.carer.user.username == "partyhead"]
        chosen = tour[-1:] + [p for p in rng.sample(candidates, min(count, len(candidates))) if p not in tour[-1:]]
        for plan in chosen:
            plan.raise_need = rng.choice(DATA["need_texts"])
            plan.heard, plan.tags, plan.topic = TEXTS["raised"].format(need=plan.raise_need), [], ""

    # --- writing --------------------------------------------------------------------------------

    def write_bulk(self) -> None:
        """The older history, with ``COPY`` (``bulk_create`` of thirty thousand visits takes half
        a minute), then the opinions heard on those visits, then the kept last-visit times."""
        self.step(_("走访历史"))
        rng = self.rng
        columns = (
            "household_id, place_path, visitor_id, recorded_by_id, kind, visited_at, recorded_at, met_person_id, "
            "met_other, heard, tags, policy_topic, needs_help, not_at_home, refused, photo, night_round_id, client_key"
        )
        by_key: dict[tuple[int, int, str, dt.datetime], _Plan] = {}
        with connection.cursor() as cur, cur.cursor.copy(f"COPY visits_visit ({columns}) FROM STDIN") as copy:
            for plan in self.bulk:
                recorded = plan.at + dt.timedelta(minutes=rng.randint(2, 180))
                if rng.random() < 0.05:
                    recorded += dt.timedelta(days=rng.uniform(0.5, 3))  # the phone was offline
                plan.recorded = min(recorded, self.now - dt.timedelta(minutes=10))
                copy.write_row(
                    (
                        plan.home.household.pk,
                        plan.home.path,
                        plan.carer.person.pk,
                        plan.carer.user.pk if plan.carer.user else None,
                        plan.kind,
                        plan.at,
                        plan.recorded,
                        plan.met.pk if plan.met else None,
                        "",
                        plan.heard,
                        plan.tags,
                        plan.topic,
                        plan.needs_help,
                        plan.not_at_home,
                        plan.refused,
                        "",
                        plan.night_round.pk if plan.night_round else None,
                        "",
                    )
                )
                if plan.tags == [VisitTag.OPINION_HEARD]:
                    by_key[(plan.home.household.pk, plan.carer.person.pk, plan.kind, plan.at)] = plan
        communities = {p.path: p for p in self._communities()}
        usernames = {"hanxing-changer": "secretary", "linfeng": "linfeng"}
        secretaries = {
            path: self.users.get(usernames[code])
            for path, code in Place.objects.filter(code__in=list(usernames)).values_list("path", "code")
        }
        opinion_rows = []
        heard = Visit.objects.filter(tags__contains=[VisitTag.OPINION_HEARD], opinion__isnull=True).order_by("id")
        for visit_id, household_id, visitor_id, kind, at in heard.values_list(
            "id", "household_id", "visitor_id", "kind", "visited_at"
        ):
            found = by_key.get((household_id, visitor_id, kind, at))
            if found is None or found.recorded is None:
                continue
            community = communities[found.home.path[:COMMUNITY_PATH_LEN]]
            age = (self.now - found.at).days
            roll = rng.random()
            status, note, decided = OpinionStatus.OPEN, "", None
            if (age > 45 and roll < 0.55) or (age > 20 and roll < 0.3):
                status, note = OpinionStatus.CLOSED, rng.choice(DATA["opinion_answers"])
            elif roll < 0.7 and age > 20:
                status, note = OpinionStatus.TOPIC, TEXTS["for_the_talk"]
            if status != OpinionStatus.OPEN:
                decided = secretaries.get(community.path)
            updated = found.recorded if status == OpinionStatus.OPEN else found.recorded + dt.timedelta(days=6)
            opinion_rows.append(
                (
                    visit_id,
                    community.pk,
                    found.home.path,
                    found.heard,
                    status,
                    note,
                    decided.pk if decided else None,
                    found.recorded,
                    min(updated, self.now),
                )
            )
        columns = "visit_id, community_id, place_path, text, status, status_note, decided_by_id, created_at, updated_at"
        with connection.cursor() as cur, cur.cursor.copy(f"COPY visits_opinion ({columns}) FROM STDIN") as copy:
            for row in opinion_rows:
                copy.write_row(row)
        services.visits_refresh_care()
        _analyze("visits_visit", "visits_opinion", "visits_careassignment", "visits_householdcare", "people_membership")

    def write_recent(self) -> None:
        """The last two weeks in the tour's communities, through ``visit_log`` in the order
        they were logged."""
        self.step(_("近两周走访"))
        from linli.visits.services import RaiseNeed

        rng = self.rng
        for plan in self.recent:
            delay = dt.timedelta(minutes=rng.randint(2, 90))
            if rng.random() < 0.04:
                delay += dt.timedelta(hours=rng.uniform(6, 40))  # logged later, from the phone's queue
            plan.recorded = min(plan.at + delay, self.now - dt.timedelta(minutes=5))
        raised = []
        for plan in sorted(self.recent, key=lambda p: (p.recorded or p.at, p.home.path)):
            visit = services.visit_log(
                actor=plan.carer.user,
                household=plan.home.household,
                kind=plan.kind,
                visited_at=plan.at,
                met_person=plan.met,
                heard=plan.heard,
                tags=plan.tags,
                policy_topic=plan.topic,
                needs_help=plan.needs_help,
                not_at_home=plan.not_at_home,
                refused=plan.refused,
                raise_need=RaiseNeed(text=plan.raise_need) if plan.raise_need else None,
                now=plan.recorded,
            )
            if visit.need_id:
                raised.append((visit, plan))
        self._follow_up(raised)

    def _follow_up(self, raised: list[tuple[Visit, _Plan]]) -> None:
        """The grid takes up the needs raised on visits: accepted within hours, resolved within
        days; those of the last two days (the ``partyhead`` account's among them) still wait in
        the grid worker's queue."""
        from linli.needs import services as needs

        for visit, _plan in raised:
            need = visit.need
            if need is None or need.status != "submitted" or visit.recorded_at > self.now - dt.timedelta(days=2):
                continue
            accept_at = visit.recorded_at + dt.timedelta(hours=self.rng.uniform(1, 6))
            needs.need_accept(actor=SYSTEM, need=need, now=accept_at)
            resolve_at = accept_at + dt.timedelta(days=self.rng.uniform(1, 4))
            if visit.recorded_at < self.now - dt.timedelta(days=5) and resolve_at < self.now - dt.timedelta(hours=2):
                needs.need_resolve(actor=SYSTEM, need=need, result=TEXTS["fixed_by_grid"], now=resolve_at)

    def finish(self) -> None:
        self.step(_("夜访安排与居民心声"))
        # opinions were heard when the visit was logged, not today
        with connection.cursor() as cur:
            cur.execute(
                """
                UPDATE visits_opinion o
                   SET created_at = v.recorded_at,
                       updated_at = CASE WHEN o.status = 'open' THEN v.recorded_at
                                         ELSE LEAST(v.recorded_at + interval '6 days', %s) END
                  FROM visits_visit v
                 WHERE v.id = o.visit_id AND o.created_at > v.recorded_at
                """,
                [self.now],
            )
        # the secretary of 常二 takes up the latest opinion for the monthly talk
        secretary = self.users.get("secretary")
        changer = Place.objects.filter(code="hanxing-changer").first()
        if secretary is not None and changer is not None:
            latest = (
                Opinion.objects.filter(community=changer, status=OpinionStatus.OPEN).order_by("-created_at").first()
            )
            if latest is not None:
                services.opinion_decide(
                    actor=secretary, opinion=latest, status=OpinionStatus.TOPIC, note=TEXTS["for_this_months_talk"]
                )
        # the 常二 grid worker plans tomorrow's night round in the tour's grid: the out-by-day
        # households due for a night visit, chosen by coverage
        grid_user = self.users.get("grid")
        grid = Place.objects.filter(code=TOUR_GRID).first()
        if grid_user is not None and grid is not None:
            team = list(
                Person.objects.filter(
                    user__username__in=["partyhead", "leader"],
                )
            )
            starts = self.at(self.now + dt.timedelta(days=1), 19 * 60, 19 * 60)
            if team:
                services.night_round_create(
                    actor=grid_user,
                    place=grid,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=2),
                    members=team,
                    note=TEXTS["grid_round"],
                    now=self.now,
                )
        # the history is simulated: the notifications of the needs raised on visits were due
        # long ago, so none is sent now
        drop_pending("needs.")

    def _communities(self) -> list[Place]:
        return list(Place.objects.filter(kind__in=(PlaceKind.COMMUNITY, PlaceKind.VILLAGE)).order_by("path"))


def _analyze(*tables: str) -> None:
    """Planner statistics after a bulk load (``ANALYZE`` counts the rows this transaction wrote)."""
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _spread(people: list[tuple[Person, _Home]], count: int) -> list[tuple[Person, _Home]]:
    """Up to ``count`` people, one from each building in turn."""
    by_building: dict[str, list[tuple[Person, _Home]]] = {}
    for person, home in people:
        by_building.setdefault(home.building, []).append((person, home))
    chosen: list[tuple[Person, _Home]] = []
    queues = [by_building[k] for k in sorted(by_building)]
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


def _intervals(home: _Home, policies: list[tuple[str, int, bool]]) -> tuple[int, int | None]:
    """The day and night intervals the community's policies ask of a household (the selector's
    arithmetic: the shortest among the matching policies)."""
    day: list[int] = []
    night: list[int] = []
    for target, days, night_only in policies:
        if target == EVERYONE or (target == OUT_BY_DAY and home.out_by_day) or target in home.vulnerabilities:
            (night if night_only else day).append(days)
    return (min(day) if day else 90), (min(night) if night else None)


def steps(paths: list[str]) -> int:
    """How many progress steps ``load`` takes: one per community, and three to finish."""
    return Place.objects.filter(under(paths, "path"), kind=PlaceKind.COMMUNITY).count() + 3


def load(*, paths: list[str], step: Callable[[str], None], seed: int = 20261129) -> None:
    """Carers, assignments, policies, six months of visits and night rounds in every demo
    community (inside the demo's transaction, after the accounts and the needs exist)."""
    # the places and people were just bulk-loaded in this transaction: without statistics the
    # planner takes the tables for empty, and the services' joins crawl (seconds a query)
    _analyze("places_place", "people_person", "people_membership", "people_household", "people_householdmember")
    builder = _Builder(seed=seed, step=step)
    # the secretaries set their own policies (per-community differences are data)
    secretary, linfeng_secretary = builder.users.get("secretary"), builder.users.get("linfeng")
    changer = Place.objects.filter(code="hanxing-changer").first()
    if secretary is not None and changer is not None:
        services.policy_set(actor=secretary, community=changer, target=Vulnerability.ELDERLY_ALONE, interval_days=5)
    linfeng = Place.objects.filter(code="linfeng").first()
    if linfeng_secretary is not None and linfeng is not None:  # Yangxin visits at night (seed 003)
        services.policy_set(
            actor=linfeng_secretary, community=linfeng, target=OUT_BY_DAY, interval_days=14, night_only=True
        )
    for community in Place.objects.filter(under(paths, "path"), kind=PlaceKind.COMMUNITY).order_by("path"):
        step(_("包保与走访 · %(community)s") % {"community": community.name})
        builder.community(community)
    builder.write_bulk()
    builder.write_recent()
    builder.finish()


def labels() -> list[tuple[str, str]]:
    """(key, label) of the counts the demo's summary prints."""
    return [(key, str(label)) for key, label in COUNT_LABELS]


def counts(paths: list[str]) -> dict[str, int]:
    """What the demo summary prints about visits, for the places under ``paths``."""
    from linli.visits.selectors import coverage_summary

    if not paths:
        return {}
    q = under(paths)
    active = CareAssignment.objects.filter(q, ended_at__isnull=True)
    visits = Visit.objects.filter(q).aggregate(
        n=Count("id"),
        night=Count("id", filter=Q(kind=VisitKind.NIGHT)),
        absent=Count("id", filter=Q(not_at_home=True)),
    )
    found: Counter[str] = Counter(
        carers=active.values("carer_id").distinct().count(),
        assignments=active.count(),
        out_by_day=HouseholdCare.objects.filter(under(paths, "household__place__path"), out_by_day=True).count(),
        visits=visits["n"],
        night_visits=visits["night"],
        not_at_home=visits["absent"],
        opinions=Opinion.objects.filter(q).count(),
        night_rounds=NightRound.objects.filter(q).count(),
    )
    for root in Place.objects.filter(path__in=paths):
        for row in coverage_summary(actor=SYSTEM, place=root, by="total"):
            found.update(never=row.never, overdue=row.overdue, due_soon=row.due_soon)
    return dict(found)


#: The append-only triggers that ``reset_demo`` suspends while it removes the demo's visits.
TRIGGERS = ("visits.Visit:visit_append_only",)


def purge(paths: list[str]) -> list[QuerySet[Any]]:
    """What ``reset_demo`` deletes for the visits, in order (the carers' accounts go with the
    demo's people)."""
    return [model.objects.filter(under(paths)) for model in (Opinion, Visit, NightRound, CareAssignment)]
