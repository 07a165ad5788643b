"""Every transition of a need, with its permission, its event and its bad inputs."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from linli.core.access import SYSTEM
from linli.core.errors import Conflict
from linli.needs.models import (
    Channel,
    DispatchStatus,
    EventKind,
    Level,
    Need,
    NeedEvent,
    NeedReporter,
    RatingChannel,
    Status,
    Urgency,
)
from linli.needs.services import (
    Reporter,
    dispatch_checkin,
    dispatch_resolve,
    dispatch_return,
    dispatch_return_decide,
    need_accept,
    need_categorise,
    need_create,
    need_merge,
    need_rate,
    need_resolve,
    need_transfer,
    need_whistle,
    needs_close_unrated,
)

pytestmark = pytest.mark.django_db


def _kinds(need: Need) -> list[str]:
    return list(NeedEvent.objects.filter(need=need).order_by("at", "id").values_list("kind", flat=True))


def _need(nw: Any, text: str = "楼下路灯不亮了，晚上很黑", **kwargs: Any) -> Need:
    kwargs.setdefault("place", nw.household_place_a)
    return need_create(actor=nw.users["resident"], text=text, **kwargs)


def test_resident_intake_locates_categorises_and_sets_deadlines(nw: Any) -> None:
    need = _need(nw)
    assert need.status == Status.SUBMITTED
    assert need.grid == nw.grid_a
    assert need.place_path == nw.household_place_a.path
    assert need.district == nw.district
    assert need.category is not None and need.category.code == "lighting"
    assert not need.category_confirmed  # a suggestion until staff confirm it
    assert need.response_due > need.created_at and need.resolution_due > need.response_due
    reporter = need.reporters.get()
    assert reporter.user == nw.users["resident"] and reporter.phone == "+8613800138000"
    event = need.events.get()
    assert event.kind == EventKind.SUBMITTED and event.data["suggested"][0][0] == "lighting"


def test_staff_enter_a_need_for_an_elderly_resident(nw: Any) -> None:
    need = need_create(
        actor=nw.users["grid_worker"],
        text="张奶奶家停水两天了",
        place=nw.household_place_a,
        channel=Channel.STAFF,
        category_code="water",
        reporter=Reporter(person=nw.resident_a),
    )
    assert need.category.code == "water" and need.category_confirmed
    assert need.submitted_by == nw.users["grid_worker"]
    assert need.reporters.get().person == nw.resident_a


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("   ", "text"),
        ("x" * 2001, "text"),
        ("楼下的路灯坏了好几天，晚上出门很不方便。".encode().decode("gbk", errors="replace"), "text"),
    ],
)
def test_bad_text_writes_nothing(nw: Any, text: str, field: str) -> None:
    before = Need.objects.count(), NeedEvent.objects.count()
    with pytest.raises(ValidationError) as info:
        _need(nw, text=text)
    assert field in info.value.message_dict
    assert (Need.objects.count(), NeedEvent.objects.count()) == before


def test_intake_refuses_other_community_and_top_places(nw: Any) -> None:
    with pytest.raises(PermissionDenied):
        _need(nw, place=nw.household_place_b)
    with pytest.raises(ValidationError):
        _need(nw, place=nw.street)
    with pytest.raises(ValidationError):
        need_create(actor=nw.users["resident"], text="路灯坏了", place=None)
    with pytest.raises(ValidationError):
        _need(nw, category_code="nonsense")
    with pytest.raises(ValidationError):
        _need(nw, lat="91", lng="114")


def test_resident_may_report_at_the_building_of_their_community(nw: Any) -> None:
    need = _need(nw, place=nw.building_a)
    assert need.place == nw.building_a


def test_emergency_limits_are_hours(nw: Any) -> None:
    now = dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)
    need = _need(nw, text="闻到很重的煤气味", urgency=Urgency.EMERGENCY, now=now)
    assert need.response_due == now + dt.timedelta(hours=1)
    assert need.resolution_due == now + dt.timedelta(hours=24)


def test_accept_needs_the_handling_role(nw: Any) -> None:
    need = _need(nw)
    for who in ("volunteer", "building_leader", "resident", "grid_worker_b", "department_liaison"):
        with pytest.raises(PermissionDenied):
            need_accept(actor=nw.users[who], need=need)
    need_accept(actor=nw.users["grid_worker"], need=need)
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED and need.accepted_at is not None
    with pytest.raises(Conflict):
        need_accept(actor=nw.users["community_staff"], need=need)
    assert _kinds(need) == ["submitted", "accepted"]
    accepted = need.events.get(kind="accepted")
    assert accepted.data == {"first": True, "on_time": True}


@pytest.mark.django_db(transaction=True)
def test_two_staff_accepting_at_once_one_wins(nw: Any) -> None:
    need = _need(nw)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(who: str) -> None:
        try:
            barrier.wait()
            need_accept(actor=nw.users[who], need=need.pk)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(w,)) for w in ("grid_worker", "community_staff")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert NeedEvent.objects.filter(need=need, kind="accepted").count() == 1


def test_whistle_checkin_resolve_rate_close(nw: Any) -> None:
    need = _need(nw, text="家里停水了，一滴水都没有")
    grid, liaison = nw.users["grid_worker"], nw.users["department_liaison"]
    [water] = need_whistle(actor=grid, need=need, departments=[nw.department], note="请水务集团报到")
    need.refresh_from_db()
    assert need.status == Status.WHISTLED and water.is_lead
    assert water.checkin_due < water.resolution_due
    with pytest.raises(Conflict):
        need_whistle(actor=grid, need=need, departments=[nw.department])
    [power] = need_whistle(actor=grid, need=need, departments=[nw.power])
    assert not power.is_lead
    with pytest.raises(PermissionDenied):
        dispatch_checkin(actor=nw.users["grid_worker"], dispatch=water)
    dispatch_checkin(actor=liaison, dispatch=water)
    with pytest.raises(Conflict):
        dispatch_checkin(actor=liaison, dispatch=water)
    dispatch_resolve(actor=liaison, dispatch=water, result="更换了破损的水管，已恢复供水")
    need.refresh_from_db()
    assert need.status == Status.WHISTLED  # the power company is still working
    dispatch_resolve(actor=SYSTEM, dispatch=power, result="线路检查正常")
    need.refresh_from_db()
    assert need.status == Status.RESOLVED and need.result == "更换了破损的水管，已恢复供水"
    need_rate(actor=nw.users["resident"], need=need, resolved=True, satisfaction="satisfied", comment="很快")
    need.refresh_from_db()
    assert need.status == Status.CLOSED
    rated = need.events.get(kind="rated")
    assert rated.data["departments"] == sorted([nw.department.pk, nw.power.pk])
    assert _kinds(need) == [
        "submitted",
        "accepted",
        "whistled",
        "whistled",
        "checked_in",
        "resolved",
        "checked_in",
        "resolved",
        "resolved",
        "rated",
        "closed",
    ]


def test_whistle_refuses_departments_out_of_reach(nw: Any) -> None:
    from linli.people.models import Department, DepartmentKind

    elsewhere = Department.objects.create(
        code="t-gas-b", name="别区燃气", kind=DepartmentKind.GAS, place=nw.community_b
    )
    need = _need(nw)
    with pytest.raises(ValidationError):
        need_whistle(actor=nw.users["grid_worker"], need=need, departments=[elsewhere])
    with pytest.raises(ValidationError):
        need_whistle(actor=nw.users["grid_worker"], need=need, departments=[])
    need.refresh_from_db()
    assert need.status == Status.SUBMITTED and not need.dispatches.exists()


def test_return_approved_brings_the_need_back(nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    liaison = nw.users["department_liaison"]
    with pytest.raises(ValidationError):
        dispatch_return(actor=liaison, dispatch=dispatch, reason="不")
    dispatch_return(actor=liaison, dispatch=dispatch, reason="属于小区内部管网，应由物业维修")
    with pytest.raises(PermissionDenied):
        dispatch_return_decide(actor=nw.users["grid_worker"], dispatch=dispatch, approve=True)
    dispatch_return_decide(actor=nw.users["secretary"], dispatch=dispatch, approve=True, note="同意，转物业")
    dispatch.refresh_from_db()
    need.refresh_from_db()
    assert dispatch.status == DispatchStatus.RETURNED and need.status == Status.ACCEPTED
    # a new whistle after a return gets a new lead
    [again] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    assert again.is_lead


def test_return_rejected_keeps_the_department_working(nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    liaison = nw.users["department_liaison"]
    dispatch_checkin(actor=liaison, dispatch=dispatch)
    dispatch_return(actor=liaison, dispatch=dispatch, reason="不是我们的管网")
    dispatch_return_decide(actor=nw.users["community_staff"], dispatch=dispatch, approve=False, note="经核实属市政管网")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.CHECKED_IN
    with pytest.raises(Conflict):
        dispatch_return_decide(actor=nw.users["community_staff"], dispatch=dispatch, approve=True)


def test_grid_resolves_itself_and_unsatisfied_reopens_once_then_escalates(nw: Any) -> None:
    need = _need(nw)
    grid = nw.users["grid_worker"]
    with pytest.raises(ValidationError):
        need_resolve(actor=grid, need=need, result="")
    need_resolve(actor=grid, need=need, result="已更换灯泡")
    need_rate(actor=nw.users["resident"], need=need, resolved=False, satisfaction="unsatisfied", comment="还是不亮")
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED and need.reopen_count == 1 and need.level == Level.GRID
    need_resolve(actor=grid, need=need, result="更换了整个灯具")
    with pytest.raises(Conflict):  # a reporter rates once per round
        need_rate(actor=SYSTEM, need=need, reporter=need.reporters.get(), resolved=True, satisfaction="basic")
        need_rate(actor=SYSTEM, need=need, reporter=need.reporters.get(), resolved=True, satisfaction="basic")
    need.refresh_from_db()
    assert need.status == Status.CLOSED


def test_second_unsatisfied_rating_escalates_to_the_street(nw: Any) -> None:
    need = _need(nw)
    grid, resident = nw.users["grid_worker"], nw.users["resident"]
    for _ in range(2):
        need_resolve(actor=grid, need=need, result="处理了")
        need_rate(actor=resident, need=need, resolved=False, satisfaction="unsatisfied")
    need.refresh_from_db()
    assert need.level == Level.STREET and need.status == Status.ACCEPTED
    assert _kinds(need)[-1] == "escalated"


def test_only_reporters_rate_and_staff_record_phone_follow_ups(nw: Any) -> None:
    need = _need(nw)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已修好")
    with pytest.raises(PermissionDenied):
        need_rate(actor=nw.users["volunteer"], need=need, resolved=True, satisfaction="satisfied")
    with pytest.raises(ValidationError):
        need_rate(actor=nw.users["resident"], need=need, resolved=True, satisfaction="great")
    rating = need_rate(
        actor=nw.users["community_staff"],
        need=need,
        reporter=need.reporters.get(),
        resolved=True,
        satisfaction="basic",
        channel=RatingChannel.PHONE,
    )
    assert rating.recorded_by == nw.users["community_staff"]


def test_rating_before_resolution_is_refused(nw: Any) -> None:
    need = _need(nw)
    with pytest.raises(Conflict):
        need_rate(actor=nw.users["resident"], need=need, resolved=True, satisfaction="satisfied")


def test_merge_makes_one_need_with_two_reporters(nw: Any) -> None:
    first = _need(nw)
    second = need_create(
        actor=nw.users["building_leader"], text="我们楼下的路燈壞了", place=nw.building_a, channel=Channel.RESIDENT
    )
    assert [first.pk] == [pk for pk, _ in second.events.get().data["duplicates"]]
    with pytest.raises(ValidationError):
        need_merge(actor=nw.users["grid_worker"], duplicate=second, into=second)
    target = need_merge(actor=nw.users["grid_worker"], duplicate=second, into=first)
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into == first
    assert target.heat == 2 and target.reporters.count() == 2
    need_resolve(actor=nw.users["grid_worker"], need=first, result="修好了")
    need_rate(actor=nw.users["resident"], need=first, resolved=True, satisfaction="satisfied")
    first.refresh_from_db()
    assert first.status == Status.RESOLVED  # waiting for the second reporter
    need_rate(actor=nw.users["building_leader"], need=first, resolved=True, satisfaction="basic")
    first.refresh_from_db()
    assert first.status == Status.CLOSED


def test_merge_refuses_across_communities(nw: Any) -> None:
    a = _need(nw)
    b = need_create(actor=nw.users["grid_worker_b"], text="路灯不亮", place=nw.household_place_b)
    with pytest.raises(PermissionDenied):
        need_merge(actor=nw.users["grid_worker"], duplicate=a, into=b)
    with pytest.raises(ValidationError):
        need_merge(actor=nw.users["street_official"], duplicate=a, into=b)


def test_transfer_moves_the_need(nw: Any) -> None:
    from linli.places.services import place_create

    other_grid = place_create(actor=SYSTEM, parent=nw.community_a, code="t-a-g2", name="第二网格", kind="grid")
    need = _need(nw)
    need_transfer(actor=nw.users["community_staff"], need=need, place=other_grid, note="属第二网格")
    need.refresh_from_db()
    assert need.grid == other_grid and need.place_path == other_grid.path
    with pytest.raises(PermissionDenied):
        need_transfer(actor=nw.users["community_staff"], need=need, place=nw.grid_b)


def test_categorise_confirms(nw: Any) -> None:
    need = _need(nw)
    need_categorise(actor=nw.users["grid_worker"], need=need, category_code="dispute")
    need.refresh_from_db()
    assert need.category.code == "dispute" and need.category_confirmed


def test_unrated_needs_close_after_a_week(nw: Any) -> None:
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    need = _need(nw, now=now)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="好了", now=now)
    assert needs_close_unrated(now=now + dt.timedelta(days=6)) == 0
    assert needs_close_unrated(now=now + dt.timedelta(days=8)) == 1
    need.refresh_from_db()
    assert need.status == Status.CLOSED
    assert need.events.get(kind="closed").data == {"unrated": 1, "round": 1}
    assert not need.ratings.exists()


def test_reporter_rows_are_unique(nw: Any) -> None:
    need = _need(nw)
    assert NeedReporter.objects.filter(need=need).count() == 1


def test_an_accepted_need_is_not_merged_away(nw: Any) -> None:
    first, second = _need(nw), _need(nw, text="楼下的路灯也坏了")
    need_accept(actor=nw.users["grid_worker"], need=second)
    with pytest.raises(Conflict):
        need_merge(actor=nw.users["grid_worker"], duplicate=second, into=first)


def test_roll_ups_written_by_the_services_equal_a_recomputation(nw: Any) -> None:
    from django.utils import timezone

    from linli.needs.rates import rates_for, rates_recompute

    test_whistle_checkin_resolve_rate_close(nw)
    first = _need(nw)
    second = _need(nw, text="楼下的路燈壞了")
    need_merge(actor=nw.users["grid_worker"], duplicate=second, into=first)
    need_resolve(actor=nw.users["grid_worker"], need=first, result="修好了")
    need_rate(actor=nw.users["resident"], need=first, resolved=False, satisfaction="unsatisfied")
    today = timezone.localdate()
    period = {"start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=1)}
    for place in (nw.grid_a, nw.community_a, nw.street, nw.district, nw.city):
        assert rates_for(place=place, **period) == rates_recompute(place=place, **period), place
    for department in (nw.department, nw.power):
        assert rates_for(department=department, **period) == rates_recompute(department=department, **period)
    community = rates_for(place=nw.community_a, **period)
    assert (community.received, community.responded, community.followed_up) == (2, 2, 2)
    assert community.satisfaction_rate is not None and community.satisfaction_rate == 1 / 2


def test_a_back_dated_intake_keeps_its_times(nw: Any) -> None:
    """Staff entering yesterday's phone call: the need is raised then, its last event is now."""
    yesterday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    need = _need(nw, now=yesterday)
    need.refresh_from_db()
    assert need.created_at == yesterday and need.updated_at == yesterday
    later = yesterday + dt.timedelta(hours=3)
    need_accept(actor=nw.users["grid_worker"], need=need, now=later)
    need.refresh_from_db()
    assert need.created_at == yesterday and need.updated_at == later
