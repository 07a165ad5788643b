"""The secretary's actions in the API: accepting and declining topics; planning, cancelling,
inviting, ticking at the door and the minutes of meetings; recording decisions with their need
or vote; reporting progress. Each works for the secretary, is refused for a resident (403) and
for another community's staff (404), answers bad input with a 400 that says why, and matches
the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linli.core.models import IdempotencyRecord
from linli.deliberation.models import (
    Attendance,
    Decision,
    DecisionStatus,
    Invitation,
    Meeting,
    MeetingStatus,
    Topic,
    TopicSource,
    TopicStatus,
    Vote,
)
from linli.deliberation.services import meetings as services
from linli.deliberation.tests.meetings_world import add_people, plan, topic
from linli.needs.models import Dispatch, Need, Status
from linli.testing import sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


@pytest.fixture
def mw(nw: Any) -> Any:
    """Community A's secretary, resident and wang (household 102); B's secretary."""
    add_people(nw)
    nw.sec = api(nw.users["secretary"])
    nw.res = api(nw.users["resident"])
    nw.other = api(nw.users["secretary_b"])
    return nw


def _post(client: APIClient, url: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, body, format="json", **headers)


# --- topics ---------------------------------------------------------------------------------------


def test_accept_and_decline_a_topic(mw: Any) -> None:
    offered = Topic.objects.create(
        place=mw.community_a, title="楼道灯经常不亮", source=TopicSource.RECURRING, status=TopicStatus.OFFERED
    )
    gathering = Topic.objects.create(
        place=mw.community_a, title="小区停车太乱", source=TopicSource.PROPOSAL, status=TopicStatus.GATHERING
    )
    assert _post(mw.res, f"/api/topics/{gathering.pk}/accept/", {}).status_code == 403  # reads it, may not list it
    url = f"/api/topics/{offered.pk}/accept/"
    assert _post(mw.res, url, {}).status_code == 404  # an offer is read only by who runs deliberation
    assert _post(mw.other, url, {}).status_code == 404
    response = _post(mw.sec, url, {})
    assert response.status_code == 200 and response.json()["status"] == TopicStatus.LISTED
    assert_matches_schema("POST", url, 200, response.json())
    again = _post(mw.sec, url, {})
    assert again.status_code == 409 and again.json()["detail"] == "该议题已处理过了"

    url = f"/api/topics/{gathering.pk}/decline/"
    assert _post(mw.res, url, {"reason": "不属于社区事务"}).status_code == 403
    assert _post(mw.other, url, {"reason": "不属于社区事务"}).status_code == 404
    short = _post(mw.sec, url, {"reason": "否"})
    assert short.status_code == 400 and short.json() == {"reason": ["请至少写2个字"]}
    assert _post(mw.sec, url, {"reason": ["x"]}).status_code == 400
    response = _post(mw.sec, url, {"reason": "属于物业合同事项"})
    assert response.status_code == 200
    assert_matches_schema("POST", url, 200, response.json())
    gathering.refresh_from_db()
    assert gathering.status == TopicStatus.DECLINED and gathering.status_note == "属于物业合同事项"


# --- meetings -------------------------------------------------------------------------------------


def _meeting_body(w: Any, **extra: Any) -> dict[str, Any]:
    starts = timezone.now() + dt.timedelta(days=3)
    return {
        "place": w.community_a.code,
        "kind": "bench",
        "title": "常二社区居民议事会",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "venue": "党群服务中心二楼",
        **extra,
    }


def test_plan_a_meeting(mw: Any) -> None:
    drains = topic(mw)
    body = _meeting_body(mw, quorum=20, open_to_place=True, agenda=["上次决定的落实情况", "  "], topics=[drains.pk])
    assert _post(mw.res, "/api/meetings/", body).status_code == 404  # a resident plans nowhere: as the page
    assert _post(mw.other, "/api/meetings/", body).status_code == 404  # A's place is out of B's reach
    response = _post(mw.sec, "/api/meetings/", body, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", "/api/meetings/", 201, response.json())
    made = response.json()
    assert made["quorum"] == 20 and made["open_to_place"] is True and made["status"] == MeetingStatus.PLANNED
    assert [a["topic"] for a in made["agenda"]] == [drains.pk, None]
    assert made["agenda"][1]["title"] == "上次决定的落实情况"
    drains.refresh_from_db()
    assert drains.status == TopicStatus.SCHEDULED
    # a retry with the same key gives the first answer and plans nothing more
    again = _post(mw.sec, "/api/meetings/", body, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert again.status_code == 201 and again.json()["id"] == made["id"] and again["Idempotent-Replayed"] == "true"
    assert Meeting.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_planning_refuses_bad_input_with_a_message(mw: Any) -> None:
    def refused(**extra: Any) -> dict[str, Any]:
        response = _post(mw.sec, "/api/meetings/", _meeting_body(mw, **extra))
        assert response.status_code == 400, response.content
        body: dict[str, Any] = response.json()
        return body

    starts = timezone.now() + dt.timedelta(days=3)
    assert refused(ends_at=starts.isoformat(), starts_at=starts.isoformat()) == {"ends_at": ["结束时间须晚于开始时间"]}
    assert "kind" in refused(kind="party")
    assert "title" in refused(title="")
    declined = Topic.objects.create(place=mw.community_b, title="别的社区的议题", status=TopicStatus.LISTED)
    assert refused(topics=[declined.pk]) == {"topics": ["议题不存在或不能列入本次会议的议程"]}
    assert "starts_at" in refused(starts_at="0001-01-01T00:00:00Z", ends_at="0001-01-01T01:00:00Z")
    assert _post(mw.sec, "/api/meetings/", {"kind": "bench"}).json()["place"]
    assert not Meeting.objects.exists()


def test_cancel_a_meeting(mw: Any) -> None:
    drains = topic(mw)
    meeting = plan(mw, topics=[drains])
    url = f"/api/meetings/{meeting.pk}/cancel/"
    assert _post(mw.res, url, {"reason": "下雨"}).status_code == 403
    assert _post(mw.other, url, {"reason": "下雨"}).status_code == 404
    assert _post(mw.sec, url, {"reason": "x" * 201}).status_code == 400
    response = _post(mw.sec, url, {"reason": "台风预警，改期"})
    assert response.status_code == 200 and response.json()["status"] == MeetingStatus.CANCELLED
    assert_matches_schema("POST", url, 200, response.json())
    drains.refresh_from_db()
    assert drains.status == TopicStatus.LISTED
    again = _post(mw.sec, url, {"reason": "再取消"})
    assert again.status_code == 400 and again.json() == {"status": ["只能取消筹备中的会议"]}


def test_invite_by_place_role_and_households(mw: Any) -> None:
    meeting = plan(mw)
    url = f"/api/meetings/{meeting.pk}/invite/"
    assert _post(mw.res, url, {"place": mw.community_a.code}).status_code == 403
    assert _post(mw.other, url, {"place": mw.community_a.code}).status_code == 404
    assert _post(mw.sec, url, {}).json() == {"non_field_errors": ["请选择邀请方式"]}
    both = _post(mw.sec, url, {"place": mw.community_a.code, "households": [mw.household_102.pk]})
    assert both.status_code == 400 and both.json() == {"non_field_errors": ["请只选择一种邀请方式"]}
    assert _post(mw.sec, url, {"place": mw.community_b.code}).json() == {"place": ["找不到该地点"]}
    assert _post(mw.sec, url, {"households": [mw.household_b.pk]}).json() == {"households": ["找不到所选的住户"]}
    assert _post(mw.sec, url, {"role": "admin"}).status_code == 400

    response = _post(mw.sec, url, {"households": [mw.household_102.pk]})
    assert response.status_code == 200 and response.json() == {"meeting": meeting.pk, "added": 1}  # wang
    assert_matches_schema("POST", url, 200, response.json())
    response = _post(mw.sec, url, {"role": "secretary"})
    assert response.json()["added"] == 1
    response = _post(mw.sec, url, {"place": mw.building_a.code})
    assert response.status_code == 200
    invited = set(Invitation.objects.filter(meeting=meeting).values_list("person_id", flat=True))
    assert {mw.wang.pk, mw.secretary.person.pk, mw.people["resident_a"].pk} <= invited
    assert mw.child.pk not in invited  # under 18
    assert _post(mw.sec, url, {"households": [mw.household_102.pk]}).json()["added"] == 0


def test_tick_at_the_door(mw: Any) -> None:
    meeting = plan(mw, starts_at=timezone.now() - dt.timedelta(minutes=30))
    services.invite_by_households(actor=mw.secretary, meeting=meeting, households=[mw.household_102])
    url = f"/api/meetings/{meeting.pk}/tick/"
    assert _post(mw.res, url, {"person": mw.wang.pk}).status_code == 403
    assert _post(mw.other, url, {"person": mw.wang.pk}).status_code == 404
    assert _post(mw.sec, url, {}).json()["person"]
    assert _post(mw.sec, url, {"person": 2**31 - 1}).json() == {"person": ["请选择参会人"]}
    outsider = _post(mw.sec, url, {"person": mw.people["resident_b"].pk})
    assert outsider.status_code == 400 and outsider.json() == {"person": ["此人不在这次会议的邀请名单中"]}
    response = _post(mw.sec, url, {"person": mw.wang.pk})
    assert response.status_code == 200 and response.json() == {
        "meeting": meeting.pk,
        "person": mw.wang.pk,
        "first": True,
    }
    assert_matches_schema("POST", url, 200, response.json())
    assert _post(mw.sec, url, {"person": mw.wang.pk}).json()["first"] is False
    assert Attendance.objects.filter(meeting=meeting, person=mw.wang).count() == 1


def test_minutes_saved_then_published(mw: Any) -> None:
    meeting = plan(mw, starts_at=timezone.now() - dt.timedelta(hours=1))
    coming = plan(mw, title="下周的议事会")
    url = f"/api/meetings/{meeting.pk}/minutes/"
    assert _post(mw.res, url, {"text": "记录"}).status_code == 403
    assert _post(mw.other, url, {"text": "记录"}).status_code == 404
    assert _post(mw.sec, url, {}).status_code == 400
    response = _post(mw.sec, url, {"text": "到会居民同意疏通排水管，联系电话13800138000。"})
    assert response.status_code == 200
    assert_matches_schema("POST", url, 200, response.json())
    body = response.json()
    assert body["minutes"] is None and body["draft"].startswith("到会居民同意") and "13800138000" not in body["draft"]
    empty = _post(mw.sec, url, {"text": "", "publish": True})
    assert empty.status_code == 400 and empty.json() == {"minutes": ["请先填写会议记录"]}
    meeting.refresh_from_db()
    assert meeting.minutes.startswith("到会居民同意")  # the refused publication saved nothing
    response = _post(mw.sec, url, {"text": "到会居民同意疏通排水管。", "publish": True})
    assert response.status_code == 200 and response.json()["status"] == MeetingStatus.HELD
    assert response.json()["minutes"] == "到会居民同意疏通排水管。"
    early = _post(mw.sec, f"/api/meetings/{coming.pk}/minutes/", {"text": "预写", "publish": True})
    assert early.status_code == 400 and early.json() == {"minutes": ["会议尚未开始"]}


# --- decisions ------------------------------------------------------------------------------------


@pytest.fixture
def held(mw: Any) -> Any:
    mw.drains = topic(mw)
    mw.meeting = plan(mw, starts_at=timezone.now() - dt.timedelta(hours=1), topics=[mw.drains])
    services.invite_by_households(actor=mw.secretary, meeting=mw.meeting, households=[mw.household_102])
    return mw


def _decision_body(w: Any, **extra: Any) -> dict[str, Any]:
    return {
        "meeting": w.meeting.pk,
        "text": "疏通3栋排水管",
        "owner": w.wang.pk,
        "due": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        **extra,
    }


def test_record_a_decision_with_a_need(held: Any) -> None:
    body = _decision_body(held, topic=held.drains.pk, spawn="need", category="water", department=held.department.pk)
    assert _post(held.res, "/api/decisions/", body).status_code == 403
    assert _post(held.other, "/api/decisions/", body).status_code == 404
    response = _post(held.sec, "/api/decisions/", body, HTTP_IDEMPOTENCY_KEY="d-1")
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", "/api/decisions/", 201, response.json())
    decision = Decision.objects.get()
    need = Need.objects.get(pk=decision.need_id)
    assert response.json()["need"] == need.pk and need.status == Status.WHISTLED
    assert Dispatch.objects.get(need=need).department == held.department
    held.drains.refresh_from_db()
    assert held.drains.status == TopicStatus.DECIDED
    assert _post(held.sec, "/api/decisions/", body, HTTP_IDEMPOTENCY_KEY="d-1").json()["id"] == decision.pk
    assert Decision.objects.count() == 1


def test_record_a_decision_with_a_vote(held: Any) -> None:
    body = _decision_body(held, spawn="vote", electorate="owners", rule="two_thirds")
    response = _post(held.sec, "/api/decisions/", body)
    assert response.status_code == 201, response.json()
    vote = Vote.objects.get(pk=response.json()["vote"])
    assert vote.rule == "two_thirds" and vote.electorate == "owners" and vote.meeting_id == held.meeting.pk


def test_a_refused_decision_leaves_nothing_behind(held: Any) -> None:
    def refused(**extra: Any) -> dict[str, Any]:
        response = _post(held.sec, "/api/decisions/", _decision_body(held, **extra))
        assert response.status_code == 400, response.content
        body: dict[str, Any] = response.json()
        return body

    assert "未知的诉求类别" in str(refused(spawn="need", category="nope"))
    assert refused(owner=held.users["secretary_b"].person.pk) == {"owner": ["请选择责任人"]}
    assert refused(topic=topic(held, "b").pk) == {"topic": ["议题不在本次会议的范围内"]}
    assert refused(department=held.power.pk + 10_000) == {"department": ["找不到该部门"]}
    assert "due" in refused(due="tomorrow")
    assert refused(due=(timezone.localdate() - dt.timedelta(days=2)).isoformat()) == {
        "due": ["完成期限不能早于会议日期"]
    }
    assert "spawn" in refused(spawn="party")
    assert not Decision.objects.exists() and not Need.objects.exists() and not Vote.objects.exists()


def test_report_progress(held: Any) -> None:
    decision = services.decision_create(
        actor=held.secretary,
        meeting=held.meeting,
        text="疏通3栋排水管",
        owner=held.wang,
        due=timezone.localdate() + dt.timedelta(days=10),
        topic=held.drains,
    )
    url = f"/api/decisions/{decision.pk}/report/"
    assert _post(held.res, url, {"text": "进展"}).status_code == 404  # minutes not published: unseen
    services.minutes_save(actor=held.secretary, meeting=held.meeting, text="到会居民同意疏通排水管。")
    services.minutes_publish(actor=held.secretary, meeting=held.meeting)
    assert _post(held.res, url, {"text": "进展"}).status_code == 403  # read, not theirs to report
    assert _post(held.other, url, {"text": "进展"}).status_code == 404
    assert _post(held.sec, url, {}).json() == {"progress": ["请填写进展"]}
    assert _post(held.sec, url, {"status": "dropped"}).json() == {"progress": ["撤销须说明理由"]}
    assert _post(held.sec, url, {"status": "maybe"}).status_code == 400
    owner = api(held.users["wang"])
    response = _post(owner, url, {"text": "已联系水务公司", "status": "done"})
    assert response.status_code == 200 and response.json()["status"] == DecisionStatus.DONE
    assert_matches_schema("POST", url, 200, response.json())
    held.drains.refresh_from_db()
    assert held.drains.status == TopicStatus.DONE
    response = _post(held.sec, url, {"text": "复查：已疏通"})
    assert response.status_code == 200 and response.json()["progress"] == "复查：已疏通"
