"""紧急 and 特急 shorten a need's deadlines to the limits the catalogue gives for the urgency, and
changing the urgency recomputes the running deadlines and says so on the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from linli.core.access import SYSTEM
from linli.core.errors import Conflict
from linli.needs.catalogue import DEFAULT_CATALOGUE, URGENCY_DEFAULTS
from linli.needs.models import Category, Need, NeedEvent, Status, Urgency
from linli.needs.services import need_create, need_rate, need_resolve, need_set_urgency, need_whistle
from linli.testing import sign_in
from linli.workdays.models import LimitUnit
from linli.workdays.services import add_limit

pytestmark = pytest.mark.django_db

#: a Tuesday, 18:00 in Wuhan
T0 = dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _need(nw: Any, urgency: str = Urgency.NORMAL, now: dt.datetime = T0, **kwargs: Any) -> Need:
    kwargs.setdefault("category_code", "lighting")
    return need_create(
        actor=nw.users["grid_worker"],
        text="楼下路灯不亮了，晚上很黑",
        place=nw.household_place_a,
        urgency=urgency,
        now=now,
        **kwargs,
    )


def _workdays(n: int, start: dt.datetime = T0) -> dt.datetime:
    return add_limit(start, n, LimitUnit.WORKDAYS)


def test_the_default_catalogue_gives_every_urgency_limits_much_shorter_than_ordinary() -> None:
    urgent, emergency = URGENCY_DEFAULTS["urgent"], URGENCY_DEFAULTS["emergency"]
    assert urgent == ((4, "hours"), (4, "hours"), (3, "workdays"))
    assert emergency == ((1, "hours"), (2, "hours"), (24, "hours"))
    for entry in DEFAULT_CATALOGUE:
        limits = dict(entry.urgency_limits)
        assert set(limits) == {"urgent", "emergency"}, entry.code
        assert all(unit == "hours" for _amount, unit in limits["emergency"]), entry.code


def test_urgent_and_emergency_shorten_the_deadlines(nw: Any) -> None:
    normal = _need(nw)
    urgent = _need(nw, Urgency.URGENT)
    emergency = _need(nw, Urgency.EMERGENCY)
    assert (normal.response_due, normal.resolution_due) == (_workdays(1), _workdays(7))
    assert (urgent.response_due, urgent.resolution_due) == (T0 + 4 * HOUR, _workdays(3))
    assert (emergency.response_due, emergency.resolution_due) == (T0 + HOUR, T0 + 24 * HOUR)
    assert emergency.resolution_due < urgent.resolution_due < normal.resolution_due
    # the departments whistled get the urgency's check-in and resolution limits too
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=urgent, departments=[nw.department], now=T0)
    assert (dispatch.checkin_due, dispatch.resolution_due) == (T0 + 4 * HOUR, _workdays(3))


def test_a_category_gives_its_own_urgency_limits_and_an_urgency_never_lengthens_one(nw: Any) -> None:
    Category.objects.filter(code="lighting").update(
        urgency_limits={"urgent": [[2, "hours"], [2, "hours"], [1, "workdays"]]},
        response_limit=1,
        response_unit=LimitUnit.HOURS,
    )
    urgent = _need(nw, Urgency.URGENT)
    assert (urgent.response_due, urgent.resolution_due) == (T0 + HOUR, _workdays(1))  # 1 hour is the shorter
    emergency = _need(nw, Urgency.EMERGENCY)  # no emergency limits of its own: the default catalogue's
    assert (emergency.response_due, emergency.resolution_due) == (T0 + HOUR, T0 + 24 * HOUR)
    with pytest.raises(ValidationError):
        Category(code="x", name="x", urgency_limits={"urgent": [[0, "hours"]]}).full_clean()
    with pytest.raises(ValidationError):
        Category(code="x", name="x", urgency_limits={"soon": []}).full_clean()


def test_changing_the_urgency_recomputes_the_running_deadlines_and_says_so(nw: Any) -> None:
    grid = nw.users["grid_worker"]
    need = _need(nw, category_code=None)  # still to be accepted
    need_set_urgency(actor=grid, need=need, urgency=Urgency.EMERGENCY, now=T0 + dt.timedelta(minutes=30))
    need.refresh_from_db()
    assert need.urgency == Urgency.EMERGENCY
    # from when the need came in: answered within the hour, made safe within a day
    assert (need.response_due, need.resolution_due) == (T0 + HOUR, T0 + 24 * HOUR)
    event = NeedEvent.objects.get(need=need, kind="urgency")
    assert (event.data["from"], event.data["to"]) == ("normal", "emergency")
    assert event.actor == grid and dt.datetime.fromisoformat(event.data["resolution_due"]) == T0 + 24 * HOUR

    # whistled at once: the department has the emergency's two hours to check in
    [dispatch] = need_whistle(actor=grid, need=need, departments=[nw.department], now=T0 + HOUR)
    assert dispatch.checkin_due == T0 + 3 * HOUR
    # a day later it turns out to be ordinary: the deadlines become those of an ordinary need
    later = T0 + 2 * dt.timedelta(days=1)
    need_set_urgency(actor=grid, need=need, urgency=Urgency.NORMAL, now=later)
    need.refresh_from_db()
    dispatch.refresh_from_db()
    # (its check-in day from the whistle has passed: a working day from now)
    assert dispatch.checkin_due == _workdays(1, later) and dispatch.resolution_due == _workdays(7, T0 + HOUR)
    assert need.resolution_due == _workdays(7, T0 + HOUR)
    # and urgent again: a deadline that would already be past runs from now
    need_set_urgency(actor=grid, need=need, urgency=Urgency.URGENT, now=later)
    dispatch.refresh_from_db()
    assert dispatch.checkin_due == later + 4 * HOUR
    assert [e.data["to"] for e in NeedEvent.objects.filter(need=need, kind="urgency").order_by("id")] == [
        "emergency",
        "normal",
        "urgent",
    ]


def test_only_staff_change_the_urgency_of_an_open_need(nw: Any) -> None:
    need = _need(nw)
    for who in ("resident", "volunteer", "grid_worker_b", "department_liaison"):
        with pytest.raises(PermissionDenied):
            need_set_urgency(actor=nw.users[who], need=need, urgency=Urgency.URGENT)
    with pytest.raises(ValidationError, match="紧急程度没有变化"):
        need_set_urgency(actor=nw.users["grid_worker"], need=need, urgency=Urgency.NORMAL)
    with pytest.raises(ValidationError, match="未知的紧急程度"):
        need_set_urgency(actor=nw.users["grid_worker"], need=need, urgency="whenever")
    need_resolve(actor=nw.users["grid_worker"], need=need, result="换了灯泡")
    need_rate(actor=SYSTEM, need=need, reporter=need.reporters.get(), resolved=True, satisfaction="satisfied")
    assert Need.objects.get(pk=need.pk).status == Status.CLOSED
    with pytest.raises(Conflict):
        need_set_urgency(actor=nw.users["grid_worker"], need=need, urgency=Urgency.URGENT)


def test_the_page_changes_the_urgency_and_the_timeline_shows_it(client: Client, nw: Any) -> None:
    need = need_create(actor=nw.users["resident"], text="楼下路灯不亮了，晚上很黑", place=nw.household_place_a)
    sign_in(client, nw.users["grid_worker"])
    page = client.get(f"/needs/{need.pk}/").content.decode()
    assert 'id="urgency"' in page and 'name="urgency" value="emergency"' in page
    response = client.post(f"/needs/{need.pk}/urgency/", {"urgency": "emergency"})
    assert response.status_code == 302
    after = client.get(response["Location"]).content.decode()
    assert "紧急程度已调整，时限已重新计算" in after
    assert "调整紧急程度" in after and "一般 → 特急，办结时限改为" in after
    assert client.post(f"/needs/{need.pk}/urgency/", {"urgency": "soonish"}).status_code == 302
    assert "未知的紧急程度" in client.get(f"/needs/{need.pk}/").content.decode()
    # the resident sees the change on their need, and is offered no such button
    sign_in(client, nw.users["resident"])
    mine = client.get(f"/needs/{need.pk}/").content.decode()
    assert "一般 → 特急" in mine and 'id="urgency"' not in mine
    assert client.post(f"/needs/{need.pk}/urgency/", {"urgency": "normal"}).status_code == 403
    assert Need.objects.get(pk=need.pk).urgency == Urgency.EMERGENCY
