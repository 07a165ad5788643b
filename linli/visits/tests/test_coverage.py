"""Coverage: the policy arithmetic against a plain Python statement of it (hypothesis), who sees
which households and visits, and query counts that do not grow with the number of households."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.access import SYSTEM
from linli.people.models import Person, Relation, Vulnerability
from linli.people.services import household_create, person_create
from linli.visits import selectors, services
from linli.visits.models import EVERYONE, OUT_BY_DAY, HouseholdCare, VisitPolicy
from linli.visits.selectors import DUE_SOON, coverage_rows, coverage_summary, visit_list

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
TARGETS = [EVERYONE, OUT_BY_DAY, *Vulnerability.values]


def expected(
    policies: list[tuple[str, int, bool]],
    vulnerabilities: set[str],
    out_by_day: bool,
    last: dt.datetime | None,
    last_night: dt.datetime | None,
    now: dt.datetime,
) -> tuple[str, dt.datetime | None]:
    """The policy rule as the secretary would state it: every policy that fits the household is a
    requirement; a night-only one counts night visits only; the household is due at the first
    requirement that falls due, and a requirement never met is due now."""
    fits = [(d, n) for t, d, n in policies if t == EVERYONE or (t == OUT_BY_DAY and out_by_day) or t in vulnerabilities]
    if not fits:
        return "none", None
    if last is None:
        return "never", None
    dues: list[dt.datetime | None] = []
    for days, night in fits:
        seen = last_night if night else last
        dues.append(seen + days * DAY if seen is not None else None)
    if any(d is None for d in dues):
        return "overdue", None
    due = min(d for d in dues if d is not None)
    if due < now:
        return "overdue", due
    if due < now + DUE_SOON:
        return "due_soon", due
    return "ok", due


policy_rows = st.lists(
    st.tuples(st.sampled_from(TARGETS), st.integers(1, 366), st.booleans(), st.booleans()),
    max_size=6,
    unique_by=lambda r: r[0],
)
offsets = st.one_of(st.none(), st.integers(0, 400 * 24))  # hours before now


def test_policy_arithmetic_matches_its_statement(vw: Any) -> None:
    now = vw.now
    household, person = vw.household_a, vw.resident_a

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        rows=policy_rows,
        vulns=st.sets(st.sampled_from(Vulnerability.values), max_size=3),
        out_by_day=st.booleans(),
        last=offsets,
        night_gap=offsets,
    )
    def check(
        rows: list[tuple[str, int, bool, bool]],
        vulns: set[str],
        out_by_day: bool,
        last: int | None,
        night_gap: int | None,
    ) -> None:
        sid = transaction.savepoint()
        try:
            for target, days, night, active in rows:
                VisitPolicy.objects.create(
                    community=vw.community_a, target=target, interval_days=days, night_only=night, active=active
                )
            Person.objects.filter(pk=person.pk).update(vulnerabilities=sorted(vulns))
            last_at = now - dt.timedelta(hours=last) if last is not None else None
            # a night visit is a visit too: the last night visit is never later than the last visit
            night_at = (
                last_at - dt.timedelta(hours=night_gap) if last_at is not None and night_gap is not None else None
            )
            HouseholdCare.objects.update_or_create(
                household=household,
                defaults={"out_by_day": out_by_day, "last_visit_at": last_at, "last_night_visit_at": night_at},
            )
            policies = [(t, d, n) for t, d, n, a in rows if a] if rows else list(services.DEFAULT_POLICIES)
            (row,) = coverage_rows(actor=SYSTEM, place=household.place, now=now)
            assert (row.status, row.due_at) == expected(policies, vulns, out_by_day, last_at, night_at, now)
            assert sorted(row.vulnerabilities) == sorted(vulns)
        finally:
            transaction.savepoint_rollback(sid)

    check()


def test_a_visit_turns_the_household_green(vw: Any) -> None:
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now)
    assert row.status == "never" and row.vulnerable and not row.green
    services.visit_log(actor=vw.users["central_household"], household=vw.household_a, kind="knock", now=vw.now)
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now)
    assert row.status == "ok" and row.green and row.due_at == vw.now + 7 * DAY  # elderly alone: weekly
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now + 5 * DAY)
    assert row.status == "due_soon"
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now + 8 * DAY)
    assert row.status == "overdue" and row.visited_in_period
    # seen from a day before any visit (a ledger's month end), the period holds none of them
    services.visit_log(
        actor=vw.users["central_household"], household=vw.household_a, kind="care", now=vw.now + 20 * DAY
    )
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now - DAY)
    assert not row.visited_in_period
    (row,) = coverage_rows(actor=vw.users["grid_worker"], place=vw.community_a, now=vw.now + 10 * DAY)
    assert row.visited_in_period  # the first visit, found among the visits themselves


def test_urgent_households_come_first(vw: Any) -> None:
    rows = []
    for room, vulnerable in (("102", False), ("103", True), ("104", False)):
        household = household_create(
            actor=SYSTEM, building=vw.building_a, code=f"t-a-g1-b1-{room}", name=f"1单元{room}", floor_area=None
        )
        person_create(
            actor=SYSTEM,
            place=household.place,
            household=household,
            relation=Relation.HEAD,
            name=f"住户{room}",
            vulnerabilities=["disabled"] if vulnerable else [],
        )
        rows.append(household)
    for household in (vw.household_a, rows[2]):
        services.visit_log(actor=vw.users["grid_worker"], household=household, kind="knock", now=vw.now - 100 * DAY)
    ordered = coverage_rows(actor=vw.users["grid_worker"], place=vw.grid_a, now=vw.now)
    assert [(r.name, r.status) for r in ordered] == [
        ("1单元103", "never"),  # never visited, vulnerable
        ("1单元102", "never"),
        ("1单元101", "overdue"),  # overdue and vulnerable (elderly alone)
        ("1单元104", "overdue"),
    ]
    page = coverage_rows(actor=vw.users["grid_worker"], place=vw.grid_a, now=vw.now, limit=2, offset=1)
    assert [r.name for r in page] == ["1单元102", "1单元101"]
    assert [r.name for r in coverage_rows(actor=vw.users["grid_worker"], now=vw.now, status="overdue")] == [
        "1单元101",
        "1单元104",
    ]


def test_who_sees_coverage(vw: Any) -> None:
    def ids(user: str) -> set[int]:
        return {r.household_id for r in coverage_rows(actor=vw.users[user], now=vw.now)}

    a, b = vw.household_a.pk, vw.household_b.pk
    assert ids("central_household") == {a}  # the carer: its household
    assert ids("building_leader") == set()  # a carer with no households
    assert ids("grid_worker") == {a} and ids("secretary") == {a} and ids("community_staff") == {a}
    assert ids("grid_worker_b") == {b} and ids("secretary_b") == {b}
    assert ids("street_official") == {a, b} and ids("district_official") == {a, b}
    for user in ("resident", "volunteer", "department_liaison", "mediator"):
        assert coverage_rows(actor=vw.users[user], now=vw.now) == []
        assert coverage_summary(actor=vw.users[user], now=vw.now) == []


def test_who_sees_visit_notes(vw: Any) -> None:
    services.visit_log(
        actor=vw.users["central_household"], household=vw.household_a, kind="care", heard="腿脚不便", now=vw.now
    )

    def seen(user: str) -> int:
        return visit_list(actor=vw.users[user]).count()

    assert seen("central_household") == 1 and seen("grid_worker") == 1 and seen("community_staff") == 1
    assert seen("secretary") == 1
    for user in ("building_leader", "street_official", "grid_worker_b", "secretary_b", "resident", "volunteer"):
        assert seen(user) == 0, user
    # a carer who hands the household over no longer sees its notes, but still sees its own visits
    services.care_assign(
        actor=vw.users["secretary"], household=vw.household_a, carer=vw.users["building_leader"].person, now=vw.now
    )
    assert seen("building_leader") == 1 and seen("central_household") == 1


def test_summaries_by_place_and_by_carer(vw: Any) -> None:
    services.visit_log(actor=vw.users["central_household"], household=vw.household_a, kind="knock", now=vw.now)
    by_child = {
        s.place.code: s
        for s in coverage_summary(actor=vw.users["street_official"], place=vw.street, now=vw.now)
        if s.place
    }
    a, b = by_child["t-a"], by_child["t-b"]
    assert (a.households, a.ok, a.never, a.on_time_rate, a.period_rate) == (1, 1, 0, 1.0, 1.0)
    assert (b.households, b.never, b.on_time_rate, b.period_rate) == (1, 1, 0.0, 0.0)
    (carer,) = coverage_summary(actor=vw.users["grid_worker"], by="carer", now=vw.now)
    assert carer.carer_name == vw.carer.name and carer.households == 1
    (total,) = coverage_summary(actor=SYSTEM, by="total", now=vw.now)
    assert total.households == 2 and total.vulnerable == 1 and total.vulnerable_overdue == 0


def test_coverage_costs_the_same_for_one_or_many_households(vw: Any, django_assert_max_num_queries: Any) -> None:
    for room in range(102, 132):
        household = household_create(
            actor=SYSTEM, building=vw.building_a, code=f"t-a-g1-b1-{room}", name=f"1单元{room}", floor_area=None
        )
        person_create(actor=SYSTEM, place=household.place, household=household, relation=Relation.HEAD, name="住户")
    actor = vw.users["grid_worker"]
    with django_assert_max_num_queries(2):  # the actor's scope, then one statement
        assert len(coverage_rows(actor=actor, place=vw.grid_a, now=vw.now)) == 31
    with django_assert_max_num_queries(3):
        coverage_summary(actor=actor, place=vw.community_a, now=vw.now)


def test_staff_find_households_to_log_and_carers_their_own(vw: Any) -> None:
    assert list(selectors.loggable_households(actor=vw.users["central_household"])) == [vw.household_a]
    assert list(selectors.loggable_households(actor=vw.users["building_leader"])) == []
    assert list(selectors.loggable_households(actor=vw.users["grid_worker"], q="101")) == [vw.household_a]
    assert list(selectors.loggable_households(actor=vw.users["grid_worker"], q="1栋")) == [vw.household_a]
    assert list(selectors.loggable_households(actor=vw.users["grid_worker"], q="999")) == []
    assert list(selectors.loggable_households(actor=vw.users["grid_worker_b"], q="101")) == [vw.household_b]
