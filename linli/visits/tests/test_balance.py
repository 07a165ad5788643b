"""Balancing care assignments: capacity, nearness, vulnerable households spread, determinism,
applying, and the ``linli visits balance`` command."""

from __future__ import annotations

import io
import math
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from linli.core.access import SYSTEM, Role
from linli.core.models import AuditEntry
from linli.people.models import Household, Relation
from linli.people.services import household_create, person_create
from linli.places.models import Place, PlaceKind
from linli.places.services import place_create
from linli.testing import make_user
from linli.visits.balance import ALL_FULL, NEAR_BUILDING, NO_CARER, balance_apply, balance_propose
from linli.visits.models import CareAssignment
from linli.visits.services import care_assign

pytestmark = pytest.mark.django_db


def add_households(building: Place, count: int, *, vulnerable: int = 0, start: int = 1) -> list[Household]:
    """``count`` households in ``building``, each with a head; the first ``vulnerable`` of them
    with an elderly person living alone."""
    made = []
    for n in range(start, start + count):
        household = household_create(actor=SYSTEM, building=building, code=f"{building.code}-{n}", name=f"{n}室")
        person_create(
            actor=SYSTEM,
            place=household.place,
            household=household,
            relation=Relation.HEAD,
            name=f"住户{building.code}{n}",
            vulnerabilities=["elderly_alone"] if n - start < vulnerable else [],
        )
        made.append(household)
    return made


def add_grid(community: Place, code: str, buildings: int) -> tuple[Place, list[Place]]:
    grid = place_create(actor=SYSTEM, parent=community, code=code, name=f"网格{code}", kind=PlaceKind.GRID)
    made = [
        place_create(actor=SYSTEM, parent=grid, code=f"{code}-b{b}", name=f"{b}栋", kind=PlaceKind.BUILDING)
        for b in range(1, buildings + 1)
    ]
    return grid, made


def by_carer(proposals: list[Any]) -> Counter[int]:
    return Counter(p.carer.pk for p in proposals if p.carer is not None)


def test_capacity_is_respected_and_the_rest_reported(world: Any) -> None:
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    add_households(b1, 7)
    p = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1).person
    q = make_user("carer_q", Role.BUILDING_LEADER, b1).person
    proposals = balance_propose(place=grid, capacity=3)
    assert len(proposals) == 7
    assert by_carer(proposals) == {p.pk: 3, q.pk: 3}
    unplaced = [x for x in proposals if x.carer is None]
    assert len(unplaced) == 1 and unplaced[0].reason == ALL_FULL
    assert proposals[-1] is unplaced[0]


def test_existing_assignments_count_towards_capacity(world: Any) -> None:
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    first, *rest = add_households(b1, 5)
    p = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1).person
    q = make_user("carer_q", Role.BUILDING_LEADER, b1).person
    care_assign(actor=SYSTEM, household=first, carer=p)
    proposals = balance_propose(place=grid, capacity=2)
    assert {x.household.pk for x in proposals} == {h.pk for h in rest}
    assert by_carer(proposals) == {p.pk: 1, q.pk: 2}
    assert sum(x.carer is None for x in proposals) == 1


def test_a_carer_of_the_same_building_comes_first(world: Any) -> None:
    grid, (b1, b2) = add_grid(world.community_a, "t-a-g7", 2)
    in_b1 = add_households(b1, 3)
    in_b2 = add_households(b2, 3)
    p = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1).person
    # q's role is at the grid, but q lives in building 2
    home = add_households(b2, 1, start=9)[0]
    q_person = person_create(actor=SYSTEM, place=home.place, household=home, relation=Relation.SPOUSE, name="王建华")
    q = make_user("carer_q", Role.CENTRAL_HOUSEHOLD, grid, person=q_person).person
    proposals = balance_propose(place=grid, capacity=10)
    chosen = {x.household.pk: x.carer.pk for x in proposals if x.carer is not None}
    assert all(chosen[h.pk] == p.pk for h in in_b1)
    assert all(chosen[h.pk] == q.pk for h in [*in_b2, home])
    assert {x.nearness for x in proposals} == {NEAR_BUILDING}


def test_when_the_near_carer_is_full_a_grid_carer_takes_the_rest(world: Any) -> None:
    grid, (b1, b2) = add_grid(world.community_a, "t-a-g7", 2)
    in_b1 = add_households(b1, 4)
    p = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1).person
    q = make_user("carer_q", Role.CENTRAL_HOUSEHOLD, b2).person
    proposals = balance_propose(place=grid, capacity=3)
    assert [x.carer.pk for x in proposals if x.carer] == [p.pk, p.pk, p.pk, q.pk]
    assert proposals[-1].household.pk == in_b1[-1].pk


def test_vulnerable_households_are_spread_fairly(world: Any) -> None:
    grid, (b1, b2, b3) = add_grid(world.community_a, "t-a-g7", 3)
    frail = add_households(b1, 6, vulnerable=6)
    others = add_households(b1, 3, start=20)
    carers = [make_user(f"carer_{n}", Role.CENTRAL_HOUSEHOLD, b).person for n, b in enumerate((b1, b2, b3))]
    proposals = balance_propose(place=grid, capacity=10)
    share = math.ceil(len(frail) / len(carers))
    frail_ids = {h.pk for h in frail}
    counts = Counter(x.carer.pk for x in proposals if x.household.pk in frail_ids)
    assert max(counts.values()) <= share and sum(counts.values()) == 6
    # vulnerable households are proposed first; the others stay with the building's own carer
    assert [x.vulnerable for x in proposals] == [True] * 6 + [False] * 3
    assert all(x.carer.pk == carers[0].pk for x in proposals if x.household.pk in {h.pk for h in others})


def test_households_without_any_carer_are_reported(world: Any) -> None:
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    made = add_households(b1, 2, vulnerable=1)
    proposals = balance_propose(place=grid)
    assert [x.household.pk for x in proposals] == [h.pk for h in made]
    assert all(x.carer is None and x.reason == NO_CARER for x in proposals)
    assert proposals[0].vulnerable and not proposals[1].vulnerable


def test_proposals_are_deterministic(world: Any) -> None:
    community = world.community_a
    for g in range(2):
        _grid, buildings = add_grid(community, f"t-a-g{g + 5}", 2)
        for n, b in enumerate(buildings):
            add_households(b, 5, vulnerable=n + g)
            make_user(f"carer_{g}_{n}", Role.CENTRAL_HOUSEHOLD if n else Role.BUILDING_LEADER, b)

    def plan() -> list[tuple[int, int | None]]:
        return [(x.household.pk, x.carer.pk if x.carer else None) for x in balance_propose(place=community)]

    first = plan()
    assert first == plan()
    assert len(first) == 21  # the 20 new households and household_a


def test_only_households_without_a_carer_unless_rebalancing(vw: Any) -> None:
    grid = vw.grid_a
    add_households(vw.building_a, 2)
    assert vw.households["household_a"].pk not in {x.household.pk for x in balance_propose(place=grid)}
    everything = balance_propose(place=grid, rebalance=True)
    assert vw.households["household_a"].pk in {x.household.pk for x in everything}
    kept = next(x for x in everything if x.household.pk == vw.households["household_a"].pk)
    assert kept.current_carer_id == vw.carer.pk


def test_bad_arguments_are_refused(world: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        balance_propose(place=world.household_place_a)
    with pytest.raises(ValidationError):
        balance_propose(place=world.grid_a, capacity=0)


def test_apply_writes_the_assignments_in_one_go(world: Any) -> None:
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    made = add_households(b1, 3, vulnerable=1)
    p = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1).person
    proposals = balance_propose(place=grid)
    assert balance_apply(actor=world.users["secretary"], proposals=proposals) == 3
    active = CareAssignment.objects.filter(household__in=made, ended_at__isnull=True)
    assert sorted(active.values_list("carer_id", flat=True)) == [p.pk] * 3
    assert AuditEntry.objects.filter(target_type="visits.careassignment", action="create").count() == 3
    assert balance_propose(place=grid) == []
    # applying the same proposals again changes nothing
    assert balance_apply(actor=world.users["secretary"], proposals=balance_propose(place=grid, rebalance=True)) == 0


def test_apply_is_all_or_nothing(world: Any) -> None:
    from django.core.exceptions import PermissionDenied

    grid_b = world.grid_b
    add_households(world.building_b, 1, start=5)
    make_user("carer_b", Role.CENTRAL_HOUSEHOLD, world.building_b)
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    add_households(b1, 2)
    make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1)
    proposals = balance_propose(place=grid) + balance_propose(place=grid_b)
    before = CareAssignment.objects.count()
    with pytest.raises(PermissionDenied):  # the secretary of A may not assign in B
        balance_apply(actor=world.users["secretary"], proposals=proposals)
    assert CareAssignment.objects.count() == before


# --- the command --------------------------------------------------------------------------------


def test_command_prints_without_writing_then_applies(world: Any) -> None:
    grid, (b1,) = add_grid(world.community_a, "t-a-g7", 1)
    add_households(b1, 3, vulnerable=1)
    make_user("carer_p", Role.CENTRAL_HOUSEHOLD, b1)
    out = io.StringIO()
    call_command("visits", "balance", grid.code, "--capacity", "2", stdout=out)
    text = out.getvalue()
    assert "t-a-g7-b1-1" in text and "用户carer_p" in text and "t-a-g7-b1-3" in text
    assert "无人可包保" in text and "--apply" in text
    assert CareAssignment.objects.count() == 0
    call_command("visits", "balance", grid.code, "--capacity", "2", "--apply", stdout=io.StringIO())
    assert CareAssignment.objects.filter(ended_at__isnull=True).count() == 2
    assert AuditEntry.objects.filter(target_type="visits.careassignment", actor_name="system").count() == 2


def test_command_refuses_bad_input(world: Any, english: None) -> None:
    with pytest.raises(CommandError, match="No place with the code 'nowhere'"):
        call_command("visits", "balance", "nowhere", stdout=io.StringIO())
    with pytest.raises(CommandError, match="capacity"):
        call_command("visits", "balance", world.grid_a.code, "--capacity", "0", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Choose a community"):
        call_command("visits", "balance", world.household_place_a.code, stdout=io.StringIO())


def test_refresh_care_command(vw: Any) -> None:
    from linli.visits.models import HouseholdCare
    from linli.visits.services import visit_log

    visit_log(actor=vw.users["central_household"], household=vw.households["household_a"], kind="knock", now=vw.now)
    HouseholdCare.objects.update(last_visit_at=None)
    out = io.StringIO()
    call_command("visits", "refresh-care", stdout=out)
    assert "1" in out.getvalue()
    assert HouseholdCare.objects.get(household=vw.households["household_a"]).last_visit_at == vw.now


# --- the benchmark's generated street -----------------------------------------------------------


def test_the_benchmark_generator_builds_a_consistent_street(db: Any) -> None:
    import datetime as dt

    from linli.bench.visits import StreetSpec, gen_street, street_drop, street_scale
    from linli.people.models import HouseholdMember, Membership
    from linli.visits.models import HouseholdCare, Visit
    from linli.visits.selectors import coverage_summary

    now = dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC)
    spec = StreetSpec.tiny()
    report = gen_street(spec, now=now)
    city = Place.objects.get(code=spec.code)
    street = Place.objects.get(code=f"{spec.code}-s1")
    assert Place.objects.filter(path__startswith=city.path).count() == report.places
    assert report.households == 40 == Household.objects.filter(place__path__startswith=city.path).count()
    for node in Place.objects.filter(path__startswith=city.path):
        assert node.numchild == Place.objects.filter(path__startswith=node.path, depth=node.depth + 1).count()
    assert HouseholdMember.objects.filter(household__place__path__startswith=city.path, relation="head").count() == 40
    assert (
        Membership.objects.filter(place__path__startswith=city.path).count() == report.carers == 4
    )  # ten households each
    scale = street_scale(street)
    assert scale["households"] == 40 and scale["with a carer"] == report.assignments
    assert scale["visits"] == report.visits == Visit.objects.count() > 0
    assert HouseholdCare.objects.filter(last_visit_at__isnull=False).count() == report.refreshed
    rows = coverage_summary(actor=SYSTEM, place=street, by="child", now=now)
    assert [r.place.code for r in rows if r.place] == [f"{spec.code}-c1", f"{spec.code}-c2"]
    assert sum(r.households for r in rows) == 40
    # the generated carers are eligible carers of their grids, so balancing works on the street
    community = Place.objects.get(code=f"{spec.code}-c1")
    proposals = balance_propose(place=community, rebalance=True)
    assert len(proposals) == 20 and all(p.carer is not None for p in proposals)
    street_drop(spec.code)
    assert not Place.objects.filter(path__startswith=city.path).exists() and Visit.objects.count() == 0
