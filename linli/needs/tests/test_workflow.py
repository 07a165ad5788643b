"""One table of transitions (``needs.workflow``) drives the services, the page's verbs and
buttons and the API's actions; every step is written through the timeline kernel."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.core.errors import Conflict
from linli.core.timeline import record_event, timeline_of
from linli.needs import workflow
from linli.needs.api import DispatchViewSet, NeedViewSet
from linli.needs.models import EventKind, Need, NeedEvent, RateRollup, Status
from linli.needs.services import (
    dispatch_checkin,
    dispatch_return,
    need_accept,
    need_create,
    need_merge,
    need_resolve,
    need_whistle,
)
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def _need(nw: Any, text: str = "楼下路灯不亮了，晚上很黑") -> Need:
    return need_create(actor=nw.users["resident"], text=text, place=nw.household_place_a)


def _page_verbs(html: str) -> set[str]:
    """The steps the need's page offers: the forms that post to ``/needs/<pk>/<verb>/`` (not
    the unmasking form, which is no step of the need)."""
    return set(re.findall(r'action="/needs/\d+/([a-z-]+)/"', html)) - {"unmask"}


def _api_actions(viewset: Any) -> set[str]:
    return {a.url_path for a in viewset.get_extra_actions()}


def test_every_verb_is_an_api_action_and_a_page_step() -> None:
    need_actions = _api_actions(NeedViewSet)
    assert {v for v in workflow.NEED if v != "phone-rate"} <= need_actions  # phone-rate is rate with a reporter
    dispatch_actions = _api_actions(DispatchViewSet)
    assert {"checkin", "resolve", "return"} <= dispatch_actions and "decide" in dispatch_actions  # approve/reject
    for verb in workflow.NEED:
        assert reverse("needs:act", args=[1, verb])
    for verb in workflow.DISPATCH:
        assert reverse("needs:dispatch_act", args=[1, verb])


def test_the_page_offers_exactly_the_verbs_the_table_allows(client: Client, nw: Any) -> None:
    need = _need(nw)
    sign_in(client, nw.users["grid_worker"])
    html = client.get(f"/needs/{need.pk}/").content.decode()
    allowed = workflow.verbs_for(nw.users["grid_worker"], need)
    assert allowed == {"accept", "whistle", "categorise", "urgency", "resolve", "transfer", "merge"}
    # merge is offered beside a suspected duplicate only; the rest are the page's forms
    assert _page_verbs(html) == allowed - {"merge"}
    api = client.get(f"/api/needs/{need.pk}/").json()
    assert set(api["actions"]) == allowed

    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    need.refresh_from_db()
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert need.status == Status.WHISTLED
    assert _page_verbs(html) == {"whistle", "categorise", "urgency"}
    assert set(client.get(f"/api/needs/{need.pk}/").json()["actions"]) == {"whistle", "categorise", "urgency"}


def test_a_resident_is_offered_no_staff_verb(client: Client, nw: Any) -> None:
    need = _need(nw)
    sign_in(client, nw.users["resident"])
    assert _page_verbs(client.get(f"/needs/{need.pk}/").content.decode()) == set()
    assert client.get(f"/api/needs/{need.pk}/").json()["actions"] == []


def test_a_duplicate_already_accepted_is_not_offered_for_merging(client: Client, nw: Any) -> None:
    first = _need(nw, "3栋楼下路灯坏了")
    second = _need(nw, "3栋楼下的路灯坏了不亮")
    need_accept(actor=nw.users["grid_worker"], need=second)
    sign_in(client, nw.users["grid_worker"])
    html = client.get(f"/needs/{second.pk}/").content.decode()
    assert f"/needs/{second.pk}/merge/" not in html  # the table: only a need not yet accepted merges
    with pytest.raises(Conflict, match="只能合并尚未受理的诉求"):
        need_merge(actor=nw.users["grid_worker"], duplicate=second, into=first)


def test_a_step_the_state_does_not_allow_is_refused_with_the_tables_reason(client: Client, nw: Any) -> None:
    need = _need(nw)
    need_accept(actor=nw.users["grid_worker"], need=need)
    with pytest.raises(Conflict, match="该诉求已被受理") as refused:
        need_accept(actor=nw.users["grid_worker"], need=need)
    assert "办理中" in str(refused.value)  # and the state it is in
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    sign_in(client, nw.users["grid_worker"])
    response = client.post(f"/needs/{need.pk}/whistle/", {"department": [nw.department.pk]})
    assert response.status_code == 302
    assert "该诉求已办结，不能吹哨" in client.get(response["Location"]).content.decode()
    assert client.post(f"/needs/{need.pk}/fly/").status_code == 404


def test_a_dispatch_step_outside_its_state_is_refused(nw: Any) -> None:
    need = _need(nw)
    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    dispatch = need.dispatches.get()
    dispatch_checkin(actor=nw.users["department_liaison"], dispatch=dispatch)
    with pytest.raises(Conflict, match="已报到或已结束"):
        dispatch_checkin(actor=nw.users["department_liaison"], dispatch=dispatch)


# --- the timeline kernel -----------------------------------------------------------------------------


def test_every_step_is_on_the_timeline_with_the_rates_rolled_up(nw: Any) -> None:
    need = _need(nw)
    need_accept(actor=nw.users["grid_worker"], need=need)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    kinds = [e.kind for e in timeline_of(need)]
    assert kinds == [EventKind.SUBMITTED, EventKind.ACCEPTED, EventKind.RESOLVED]
    last = NeedEvent.objects.filter(need=need).last()
    assert last is not None and last.actor == nw.users["grid_worker"] and last.to_status == Status.RESOLVED
    assert last.place_path == need.place_path
    # the rates' hook ran in the same transaction as each event
    assert RateRollup.objects.filter(received__gt=0).exists()


def test_an_unregistered_kind_or_subject_is_a_programming_error(nw: Any) -> None:
    need = _need(nw)
    with pytest.raises(ValueError, match="not a registered kind"):
        record_event(need, "teleported", actor=nw.users["grid_worker"])
    with pytest.raises(LookupError, match="no registered timeline"):
        record_event(nw.community_a, "note", actor=nw.users["grid_worker"])
    assert timeline_of(need).count() == 1


def test_the_dispatch_buttons_are_the_verbs_of_their_reader(client: Client, nw: Any) -> None:
    """A liaison sees the department's steps; staff who may read the need but not work the
    dispatch see none (the service would refuse them); a return is decided where one may."""
    need = _need(nw)
    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    dispatch = need.dispatches.get()

    def buttons(who: str) -> set[str]:
        sign_in(client, nw.users[who])
        html = client.get("/needs/dispatches/?show=all").content.decode()
        return set(re.findall(rf'action="/needs/dispatches/{dispatch.pk}/([a-z]+)/"', html))

    assert buttons("department_liaison") == {"checkin", "resolve", "return"}
    assert buttons("community_staff") == set()
    assert workflow.dispatch_verbs(nw.users["community_staff"], dispatch) == frozenset()
    dispatch_return(actor=nw.users["department_liaison"], dispatch=dispatch, reason="不属于本部门职责")
    assert buttons("department_liaison") == set()
    assert buttons("community_staff") == {"approve", "reject"}
