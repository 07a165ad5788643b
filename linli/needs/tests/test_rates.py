"""The three rates: roll-ups written event by event equal a recomputation from the timeline.

Needs and events are written directly (the services record them the same way and call
``rollup_event`` after each event)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.access import SYSTEM
from linli.needs.models import EventKind, Need, NeedEvent, RateRollup, Status
from linli.needs.rates import (
    Rates,
    department_ranking,
    rates_by_child,
    rates_by_period,
    rates_for,
    rates_recompute,
    rollup_event,
    rollup_rebuild,
)
from linli.people.models import Department, DepartmentKind
from linli.places.models import Place, PlaceKind
from linli.places.services import place_create

pytestmark = pytest.mark.django_db

UTC = dt.UTC
T0 = dt.datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
_text = itertools.count(1)


def make_need(place: Place) -> Need:
    text = f"诉求{next(_text)}"
    return Need.objects.create(text=text, text_search=text, place=place, place_path=place.path, status=Status.SUBMITTED)


def record(
    need: Need, kind: str, at: dt.datetime, department: Department | None = None, *, path: str = "", **data: Any
) -> NeedEvent:
    """An event at the need's place (or at ``path``, where a transfer took it)."""
    event = NeedEvent.objects.create(
        need=need, kind=kind, at=at, department=department, data=data, place_path=path or need.place_path, district=None
    )
    rollup_event(event)
    return event


def rollup_rows() -> list[tuple[Any, ...]]:
    return sorted(
        RateRollup.objects.values_list("day", "place_id", "department_id", *RateRollup.COUNTERS),
        key=lambda row: (row[0], row[1] or 0, row[2] or 0),
    )


def rate_nodes(world: Any) -> list[Place]:
    return [
        world.places[name] for name in ("city", "district", "street", "community_a", "community_b", "grid_a", "grid_b")
    ]


def first_of_march_to(end: dt.date = dt.date(2025, 3, 31)) -> dict[str, dt.date]:
    return {"start": dt.date(2025, 3, 1), "end": end}


@pytest.fixture
def departments(world: Any) -> list[Department]:
    others = [
        Department.objects.create(code=f"t-dept-{n}", name=f"部门{n}", kind=DepartmentKind.OTHER, place=world.city)
        for n in (2, 3)
    ]
    return [world.department, *others]


def worked_example(world: Any, departments: list[Department]) -> None:
    """4 needs in community A (3 at or under grid A, 1 at the community), 1 in community B."""
    water, power, _ = departments
    hour = dt.timedelta(hours=1)
    n1 = make_need(world.household_place_a)
    record(n1, EventKind.SUBMITTED, T0)
    record(n1, EventKind.ACCEPTED, T0 + hour, first=True, on_time=True)
    record(n1, EventKind.WHISTLED, T0 + 2 * hour, water, lead=True)
    record(n1, EventKind.WHISTLED, T0 + 2 * hour, power, lead=False)
    record(n1, EventKind.CHECKED_IN, T0 + 3 * hour, water, on_time=True)
    record(n1, EventKind.CHECKED_IN, T0 + 30 * hour, power, on_time=False)
    record(n1, EventKind.OVERDUE, T0 + 30 * hour, power, deadline="checkin")
    record(n1, EventKind.RESOLVED, T0 + 40 * hour, water)
    record(n1, EventKind.RESOLVED, T0 + 41 * hour, power)
    record(n1, EventKind.RESOLVED, T0 + 42 * hour)
    record(
        n1,
        EventKind.RATED,
        T0 + 50 * hour,
        resolved=True,
        satisfaction="satisfied",
        departments=[water.pk, power.pk],
    )

    n2 = make_need(world.building_a)
    record(n2, EventKind.SUBMITTED, T0)
    record(n2, EventKind.ACCEPTED, T0 + 30 * hour, first=True, on_time=False)
    record(n2, EventKind.OVERDUE, T0 + 25 * hour, deadline="response")
    record(n2, EventKind.ACCEPTED, T0 + 31 * hour, first=False, on_time=True)  # reopened: not a response
    record(n2, EventKind.RESOLVED, T0 + 60 * hour)
    record(n2, EventKind.RATED, T0 + 70 * hour, resolved=False, satisfaction="basic", departments=[])

    n3 = make_need(world.grid_a)
    record(n3, EventKind.SUBMITTED, T0)
    record(n3, EventKind.ACCEPTED, T0 + hour, first=True, on_time=True)
    record(n3, EventKind.NOTE, T0 + 2 * hour)

    n4 = make_need(world.community_a)
    record(n4, EventKind.SUBMITTED, T0)

    n5 = make_need(world.household_place_b)
    record(n5, EventKind.SUBMITTED, T0)
    record(n5, EventKind.ACCEPTED, T0 + hour, first=True, on_time=True)


def test_worked_example_at_every_level(world: Any, departments: list[Department]) -> None:
    worked_example(world, departments)
    march = first_of_march_to()

    community = rates_for(place=world.community_a, **march)
    assert community == Rates(
        received=4,
        responded=3,
        responded_on_time=2,
        resolved=2,
        followed_up=2,
        rated_resolved=1,
        satisfied=1,
        basic=1,
        overdue=1,
    )
    assert community.response_rate == Decimal("0.75")
    assert community.on_time_response_rate == Decimal("0.5")
    assert community.resolution_rate == Decimal("0.5")
    assert community.satisfaction_rate == Decimal("1")

    grid = rates_for(place=world.grid_a, **march)  # the need at the community is not the grid's
    assert (grid.received, grid.responded, grid.response_rate) == (3, 3, Decimal("1"))
    assert grid.followed_up == 2

    street = rates_for(place=world.street, **march)
    city = rates_for(place=world.city, **march)
    assert street == city == community + rates_for(place=world.community_b, **march)
    assert (city.received, city.responded, city.response_rate) == (5, 4, Decimal("0.8"))

    for node in rate_nodes(world):
        assert rates_for(place=node, **march) == rates_recompute(place=node, **march)

    # nothing counted for a period without events; rates undefined
    empty = rates_for(place=world.city, start=dt.date(2025, 2, 1), end=dt.date(2025, 2, 28))
    assert empty == Rates()
    assert (empty.response_rate, empty.resolution_rate, empty.satisfaction_rate) == (None, None, None)


def test_department_rows(world: Any, departments: list[Department]) -> None:
    worked_example(world, departments)
    water, power, idle = departments
    march = first_of_march_to()

    assert rates_for(department=water, **march) == Rates(
        received=1, responded=1, responded_on_time=1, resolved=1, followed_up=1, rated_resolved=1, satisfied=1
    )
    assert rates_for(department=power, **march) == Rates(
        received=1, responded=1, resolved=1, followed_up=1, rated_resolved=1, satisfied=1, overdue=1
    )
    assert rates_for(department=idle, **march) == Rates()
    for department in departments:
        assert rates_for(department=department, **march) == rates_recompute(department=department, **march)
        # a department's work for the needs received at each node: n1 was received in grid A
        for node in rate_nodes(world):
            expected = rates_recompute(place=node, department=department, **march)
            assert rates_for(place=node, department=department, **march) == expected, (department, node)
        assert rates_for(place=world.grid_a, department=department, **march) == rates_for(
            department=department, **march
        )
        assert rates_for(place=world.community_b, department=department, **march) == Rates()
    assert not RateRollup.objects.filter(place__kind__in=[PlaceKind.BUILDING, PlaceKind.HOUSEHOLD]).exists()

    ranking = department_ranking(**march)
    assert [d for d, _ in ranking] == [water, power, idle]  # water answered on time; idle has no ratings
    assert ranking[0][1].response_rate == Decimal("1")
    # at community B nobody was whistled to: all last, by code
    assert [d for d, _ in department_ranking(place=world.community_b, **march)] == sorted(
        departments, key=lambda d: d.code
    )


def test_a_department_without_dispatches_in_the_period_ranks_last(world: Any, departments: list[Department]) -> None:
    """Rated in March for a dispatch of February: 100 % satisfied, but nothing was whistled
    to it in March, so it ranks after the department that worked (and was rated worse)."""
    water, power, _ = departments
    old = make_need(world.grid_a)
    record(old, EventKind.SUBMITTED, T0 - dt.timedelta(days=20))
    record(old, EventKind.WHISTLED, T0 - dt.timedelta(days=20), water)
    record(old, EventKind.CHECKED_IN, T0 + dt.timedelta(hours=1), water, on_time=False)
    record(old, EventKind.RATED, T0 + dt.timedelta(hours=2), resolved=True, satisfaction="satisfied",
           departments=[water.pk])  # fmt: skip
    new = make_need(world.grid_a)
    record(new, EventKind.SUBMITTED, T0)
    record(new, EventKind.WHISTLED, T0, power)
    record(new, EventKind.RATED, T0 + dt.timedelta(hours=3), resolved=False, satisfaction="unsatisfied",
           departments=[power.pk])  # fmt: skip
    march = first_of_march_to()

    water_march = rates_for(place=world.street, department=water, **march)
    # the late check-in counts on February 9, the day of its dispatch
    assert (water_march.received, water_march.responded, water_march.satisfaction_rate) == (0, 0, Decimal(1))
    ranking = department_ranking(
        place=world.street, departments=Department.objects.filter(pk__in=[water.pk, power.pk]), **march
    )
    assert [d for d, _ in ranking] == [power, water]
    february = {"start": dt.date(2025, 2, 1), "end": dt.date(2025, 2, 28)}
    assert rates_for(department=water, **february).response_rate == Decimal(1)


def test_merged_duplicate_counts_once(world: Any) -> None:
    original = make_need(world.grid_a)
    duplicate = make_need(world.grid_a)
    record(original, EventKind.SUBMITTED, T0)
    record(duplicate, EventKind.SUBMITTED, T0 + dt.timedelta(minutes=5))
    record(duplicate, EventKind.OVERDUE, T0 + dt.timedelta(hours=20), deadline="response")
    record(duplicate, EventKind.MERGED, T0 + dt.timedelta(days=1))
    record(original, EventKind.JOINED, T0 + dt.timedelta(days=1))
    record(duplicate, EventKind.ACCEPTED, T0 + dt.timedelta(days=2), first=True, on_time=False)  # below the services

    assert rates_for(place=world.grid_a, **first_of_march_to()) == Rates(received=1)
    # the merge takes the duplicate back on the day it was received: no day counts it
    assert rates_for(place=world.grid_a, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1)) == Rates(received=1)
    assert rates_for(place=world.grid_a, start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 3)) == Rates()


def test_a_response_counts_on_the_day_and_at_the_place_the_need_was_received(world: Any) -> None:
    """The grid of the issue: 2 responses over 1 reception, because one need was received in
    February (or at another grid) and accepted in March. Now each response belongs to its
    need's reception."""
    february = make_need(world.grid_a)
    record(february, EventKind.SUBMITTED, T0 - dt.timedelta(days=3))
    record(february, EventKind.ACCEPTED, T0 + dt.timedelta(hours=1), first=True, on_time=False)
    transferred = make_need(world.grid_b)
    record(transferred, EventKind.SUBMITTED, T0)
    there = world.grid_a.path  # 转办 to grid A
    record(transferred, EventKind.TRANSFERRED, T0 + dt.timedelta(hours=1), path=there)
    record(transferred, EventKind.ACCEPTED, T0 + dt.timedelta(hours=2), path=there, first=True, on_time=True)
    record(transferred, EventKind.OVERDUE, T0 + dt.timedelta(hours=3), path=there, deadline="resolution")
    record(transferred, EventKind.OVERDUE, T0 + dt.timedelta(hours=4), path=there, deadline="resolution")  # once
    own = make_need(world.grid_a)
    record(own, EventKind.SUBMITTED, T0)
    record(own, EventKind.ACCEPTED, T0 + dt.timedelta(hours=1), first=True, on_time=True)
    march = first_of_march_to()

    assert rates_for(place=world.grid_a, **march) == Rates(received=1, responded=1, responded_on_time=1)
    assert rates_for(place=world.grid_b, **march) == Rates(received=1, responded=1, responded_on_time=1, overdue=1)
    assert rates_for(place=world.grid_a, start=dt.date(2025, 2, 26), end=dt.date(2025, 2, 26)) == Rates(
        received=1, responded=1
    )
    for node in rate_nodes(world):
        assert rates_for(place=node, **march) == rates_recompute(place=node, **march)


def test_days_are_shanghai_days(world: Any) -> None:
    need = make_need(world.grid_a)
    # 16:30 UTC on 31 March is 00:30 on 1 April in Shanghai
    record(need, EventKind.SUBMITTED, dt.datetime(2025, 3, 31, 16, 30, tzinfo=UTC))
    assert RateRollup.objects.filter(place=world.grid_a).get().day == dt.date(2025, 4, 1)
    assert rates_for(place=world.grid_a, **first_of_march_to()).received == 0
    assert rates_recompute(place=world.grid_a, **first_of_march_to()).received == 0
    april = {"start": dt.date(2025, 4, 1), "end": dt.date(2025, 4, 1)}
    assert rates_for(place=world.grid_a, **april) == rates_recompute(place=world.grid_a, **april) == Rates(received=1)


def test_rollup_event_is_one_statement_and_silent_events_write_nothing(world: Any) -> None:
    need = make_need(world.household_place_a)
    record(need, EventKind.SUBMITTED, T0)
    event = NeedEvent.objects.create(
        need=need, kind=EventKind.RATED, at=T0, data={"resolved": True, "satisfaction": "satisfied",
        "departments": [world.department.pk]}, place_path=need.place_path,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        rollup_event(event)
    assert len(queries) == 1
    # city, district, street, community and grid; the department alone and at each of them;
    # not the building or household
    assert RateRollup.objects.count() == 11
    assert RateRollup.objects.filter(department=world.department, place__isnull=False).count() == 5

    with CaptureQueriesContext(connection) as queries:
        record(need, EventKind.NOTE, T0)
        record(need, EventKind.ACCEPTED, T0, first=False, on_time=True)
        record(need, EventKind.WHISTLED, T0, lead=True)  # no department: nothing to count
    assert [q["sql"] for q in queries if "raterollup" in q["sql"]] == []
    assert RateRollup.objects.count() == 11


def test_rates_need_one_owner_with_rows(world: Any) -> None:
    with pytest.raises(ValueError):
        rates_for(start=T0.date(), end=T0.date())
    assert rates_for(place=world.grid_a, department=world.department, start=T0.date(), end=T0.date()) == Rates()
    with pytest.raises(ValueError):
        rates_recompute(place=world.building_a, start=T0.date(), end=T0.date())


def test_rollup_rebuild_reproduces_the_incremental_rows(world: Any, departments: list[Department]) -> None:
    worked_example(world, departments)
    need = make_need(world.grid_b)
    record(need, EventKind.SUBMITTED, dt.datetime(2025, 4, 30, 16, 0, tzinfo=UTC))  # 1 May in Shanghai
    incremental = rollup_rows()

    assert rollup_rebuild() == len(incremental)
    assert rollup_rows() == incremental

    # a partial rebuild only touches its days
    RateRollup.objects.filter(day=dt.date(2025, 3, 1)).update(received=99)
    RateRollup.objects.filter(day=dt.date(2025, 5, 1)).update(received=77)
    rollup_rebuild(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert set(RateRollup.objects.filter(day=dt.date(2025, 5, 1)).values_list("received", flat=True)) == {77}
    RateRollup.objects.filter(day=dt.date(2025, 5, 1)).update(received=1)
    assert rollup_rows() == incremental


def test_rates_by_child_query_count_does_not_grow(world: Any) -> None:
    march = first_of_march_to()
    for community in (world.community_a, world.community_b):
        record(make_need(community), EventKind.SUBMITTED, T0)

    with CaptureQueriesContext(connection) as few:
        children = rates_by_child(parent=world.street, **march)
    assert [(place, rates.received) for place, rates in children] == [(world.community_a, 1), (world.community_b, 1)]

    for n in range(6):
        extra = place_create(
            actor=SYSTEM, parent=world.street, code=f"t-extra-{n}", name=f"新社区{n}", kind=PlaceKind.COMMUNITY
        )
        record(make_need(extra), EventKind.SUBMITTED, T0)
    world.street.refresh_from_db()
    with CaptureQueriesContext(connection) as many:
        children = rates_by_child(parent=world.street, **march)
    assert len(children) == 8
    assert all(rates.received == 1 for _, rates in children)
    assert len(many) == len(few) <= 2

    # a grid's children are buildings, which have no rates
    assert rates_by_child(parent=world.grid_a, **march) == []


def test_rates_by_period(world: Any) -> None:
    need = make_need(world.grid_a)
    record(need, EventKind.SUBMITTED, T0)
    record(need, EventKind.ACCEPTED, T0 + dt.timedelta(days=1), first=True, on_time=False)
    record(make_need(world.grid_a), EventKind.SUBMITTED, dt.datetime(2025, 4, 10, tzinfo=UTC))

    days = rates_by_period(place=world.grid_a, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3), period="day")
    # the response of the next day counts on the day the need was received
    assert [(day, r.received, r.responded) for day, r in days] == [
        (dt.date(2025, 3, 1), 1, 1),
        (dt.date(2025, 3, 2), 0, 0),
        (dt.date(2025, 3, 3), 0, 0),
    ]
    months = rates_by_period(place=world.city, start=dt.date(2025, 2, 15), end=dt.date(2025, 4, 30), period="month")
    assert [(month, r.received) for month, r in months] == [
        (dt.date(2025, 2, 1), 0),
        (dt.date(2025, 3, 1), 1),
        (dt.date(2025, 4, 1), 1),
    ]
    assert months[1][1].response_rate == Decimal("1")


# --- property: incremental roll-ups equal a recomputation ------------------------------------


def assert_bounded(rates: Rates) -> None:
    """Each numerator is a part of its denominator, whatever the events (even out of order,
    or impossible for the services: a response after a merge, a check-in without dispatch)."""
    assert 0 <= rates.responded_on_time <= rates.responded <= rates.received, rates
    assert 0 <= rates.resolved <= rates.received and 0 <= rates.overdue <= rates.received, rates
    assert 0 <= rates.rated_resolved <= rates.followed_up, rates
    assert rates.satisfied + rates.basic + rates.unsatisfied <= rates.followed_up, rates


KINDS = [
    EventKind.SUBMITTED,
    EventKind.MERGED,
    EventKind.ACCEPTED,
    EventKind.WHISTLED,
    EventKind.CHECKED_IN,
    EventKind.RESOLVED,
    EventKind.RATED,
    EventKind.OVERDUE,
    EventKind.NOTE,
    EventKind.CLOSED,
]
NEED_PLACES = ["household_place_a", "building_a", "grid_a", "community_a", "household_place_b", "grid_b", "community_b"]
SPAN_DAYS = 100
START = dt.date(2025, 1, 1)

# minutes after 2025-01-01 00:00 UTC; half of them within 20 minutes of a Shanghai midnight
minutes = st.one_of(
    st.integers(min_value=0, max_value=SPAN_DAYS * 1440 - 1),
    st.builds(lambda d, m: d * 1440 + 16 * 60 + m, st.integers(0, SPAN_DAYS - 2), st.integers(-20, 20)),
)
events = st.lists(
    st.fixed_dictionaries(
        {
            "need": st.integers(0, 5),
            "place": st.sampled_from(NEED_PLACES),  # where the need is by then (transfers)
            "kind": st.sampled_from(KINDS),
            "minute": minutes,
            "department": st.one_of(st.none(), st.integers(0, 2)),
            "first": st.booleans(),
            "on_time": st.booleans(),
            "resolved": st.booleans(),
            "satisfaction": st.sampled_from(["satisfied", "basic", "unsatisfied"]),
            "rated_departments": st.lists(st.integers(0, 2), max_size=3),
        }
    ),
    max_size=40,
)
periods = st.lists(st.tuples(st.integers(0, SPAN_DAYS), st.integers(0, SPAN_DAYS)).map(sorted), min_size=1, max_size=3)


def test_rollups_equal_recomputation(world: Any, departments: list[Department]) -> None:
    nodes = rate_nodes(world)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(places=st.lists(st.sampled_from(NEED_PLACES), min_size=6, max_size=6), events=events, periods=periods)
    def check(places: list[str], events: list[dict[str, Any]], periods: list[list[int]]) -> None:
        savepoint = transaction.savepoint()
        try:
            needs = [make_need(world.places[name]) for name in places]
            for e in events:
                department = departments[e["department"]] if e["department"] is not None else None
                data: dict[str, Any] = {"first": e["first"], "on_time": e["on_time"]}
                if e["kind"] == EventKind.RATED:
                    data = {
                        "resolved": e["resolved"],
                        "satisfaction": e["satisfaction"],
                        "departments": [departments[i].pk for i in e["rated_departments"]],
                    }
                elif e["kind"] == EventKind.OVERDUE:
                    data = {"deadline": "checkin" if department else "resolution"}
                at = dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=e["minute"])
                record(needs[e["need"]], e["kind"], at, department, path=world.places[e["place"]].path, **data)

            for first, last in [(0, SPAN_DAYS), *periods]:
                span = {"start": START + dt.timedelta(days=first), "end": START + dt.timedelta(days=last)}
                for node in nodes:
                    found = rates_for(place=node, **span)
                    assert found == rates_recompute(place=node, **span), (node, span)
                    assert_bounded(found)
                    for department in departments:
                        at_node = rates_for(place=node, department=department, **span)
                        assert at_node == rates_recompute(place=node, department=department, **span)
                        assert_bounded(at_node)
                for department in departments:
                    found = rates_for(department=department, **span)
                    assert found == rates_recompute(department=department, **span), (department, span)
                    assert_bounded(found)

            incremental = rollup_rows()
            assert rollup_rebuild() == len(incremental)
            assert rollup_rows() == incremental
        finally:
            transaction.savepoint_rollback(savepoint)

    check()


@given(numerator=st.integers(-5, 10_000), denominator=st.integers(-5, 10_000))
def test_a_rate_is_an_integer_ratio_within_0_and_1(numerator: int, denominator: int) -> None:
    rates = Rates(received=denominator, responded=numerator)
    if denominator <= 0:
        assert rates.response_rate is None
        return
    rate = rates.response_rate
    assert rate is not None and Decimal(0) <= rate <= Decimal(1)
    if 0 <= numerator <= denominator:
        exact = Decimal(numerator) / Decimal(denominator)
        assert abs(rate - exact) <= Decimal("0.00005")
        assert rate == exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
