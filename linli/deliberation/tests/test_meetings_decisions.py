"""Minutes and decisions: minutes with files, published for the residents; decisions with an
owner and a due date that spawn a need whistled to a department, or a vote; progress by the
owner; the topic decided, then done; the street's page of overdue decisions; the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from linli.deliberation.models import DecisionStatus, MeetingStatus, TopicStatus, Vote
from linli.deliberation.selectors import meetings as sel
from linli.deliberation.services import meetings as services
from linli.deliberation.tests.meetings_world import add_people, plan, topic
from linli.needs.models import Channel, Dispatch, Need, Status
from linli.testing import png_bytes, sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def held(nw: Any) -> Any:
    """A meeting of community A that began an hour ago, household 102 and A invited."""
    add_people(nw)
    meeting = plan(nw, starts_at=timezone.now() - dt.timedelta(hours=1), topics=[topic(nw)])
    services.invite_by_households(actor=nw.secretary, meeting=meeting, households=[nw.household_102])
    nw.meeting = meeting
    nw.drains = meeting.agenda.get().topic
    return nw


def decide(w: Any, *, due: dt.date | None = None, with_topic: bool = True, meeting: Any = None) -> Any:
    return services.decision_create(
        actor=w.secretary,
        meeting=meeting or w.meeting,
        text="疏通3栋排水管，请水务公司检修",
        owner=w.wang,
        due=due or timezone.localdate() + dt.timedelta(days=14),
        topic=w.drains if with_topic else None,
    )


# --- minutes --------------------------------------------------------------------------------------


def test_minutes_are_read_by_residents_once_published(client: Any, held: Any) -> None:
    meeting = held.meeting
    sign_in(client, held.secretary)
    url = reverse("deliberation:meeting_minutes", kwargs={"pk": meeting.pk})
    client.post(url, {"action": "save", "minutes": "到会居民同意疏通排水管。"})
    pdf = _upload("签到表.pdf", PDF)
    response = client.post(url, {"action": "attach", "file": pdf}, follow=True)
    assert "附件已上传" in response.content.decode()
    response = client.post(url, {"action": "attach", "file": _upload("x.exe", b"MZ\x90\x00")}, follow=True)
    assert "只支持PDF" in response.content.decode()
    response = client.post(url, {"action": "attach", "file": _upload("fake.pdf", b"hello")}, follow=True)
    assert "文件内容与类型不符" in response.content.decode()
    client.post(url, {"action": "attach", "file": _upload("白板.png", png_bytes())})
    [first, photo] = sel.attachments_of(meeting)
    assert first.content_type == "application/pdf" and photo.content_type == "image/png"
    # before publication: residents see neither the minutes nor the files
    sign_in(client, held.users["resident"])
    page = reverse("deliberation:meeting", kwargs={"pk": meeting.pk})
    assert "到会居民同意" not in client.get(page).content.decode()
    file_url = reverse("deliberation:minutes_file", kwargs={"pk": meeting.pk, "file_id": first.pk})
    assert client.get(file_url).status_code == 404
    sign_in(client, held.secretary)
    response = client.post(url, {"action": "publish", "minutes": "到会居民同意疏通排水管。"}, follow=True)
    assert "会议记录已公布" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and meeting.minutes_published_at is not None
    sign_in(client, held.users["resident"])  # a resident of the community, not invited
    body = client.get(page).content.decode()
    assert "到会居民同意疏通排水管" in body and "签到表.pdf" in body
    response = client.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def _upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_minutes_of_a_meeting_not_begun_cannot_be_published(nw: Any) -> None:
    meeting = plan(nw)
    services.minutes_save(actor=nw.secretary, meeting=meeting, text="预备")
    with pytest.raises(ValidationError, match="尚未开始"):
        services.minutes_publish(actor=nw.secretary, meeting=meeting)
    with pytest.raises(PermissionDenied):
        services.minutes_save(actor=nw.users["grid_worker"], meeting=meeting, text="x")


# --- decisions ------------------------------------------------------------------------------------


def test_a_decision_spawns_a_need_whistled_to_the_department(client: Any, held: Any) -> None:
    sign_in(client, held.secretary)
    url = reverse("deliberation:decision_new", kwargs={"pk": held.meeting.pk})
    page = client.get(url).content.decode()
    assert held.department.name in page and "王" in page
    response = client.post(
        url,
        {
            "text": "疏通3栋排水管",
            "owner": held.wang.pk,
            "due": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
            "topic": held.drains.pk,
            "spawn": "need",
            "category": "water",
            "department": held.department.pk,
        },
    )
    assert response.status_code == 302
    decision = held.meeting.decisions.get()
    need = Need.objects.get(pk=decision.need_id)
    assert need.channel == Channel.MEETING and need.status == Status.WHISTLED and need.category.code == "water"
    [dispatch] = Dispatch.objects.filter(need=need)
    assert dispatch.department == held.department and dispatch.is_lead
    held.drains.refresh_from_db()
    assert held.drains.status == TopicStatus.DECIDED
    page = client.get(reverse("deliberation:decision", kwargs={"pk": decision.pk})).content.decode()
    assert reverse("needs:detail", kwargs={"pk": need.pk}) in page
    with pytest.raises(ValidationError, match="已转为诉求"):
        services.decision_spawn_need(actor=held.secretary, decision=decision)


def test_a_need_that_cannot_be_raised_leaves_no_decision_behind(client: Any, held: Any) -> None:
    sign_in(client, held.secretary)
    url = reverse("deliberation:decision_new", kwargs={"pk": held.meeting.pk})
    due = timezone.localdate().isoformat()
    response = client.post(
        url, {"text": "x", "owner": held.wang.pk, "due": due, "spawn": "need", "category": "nope"}, follow=True
    )
    assert "未知的诉求类别" in response.content.decode()
    assert not held.meeting.decisions.exists() and not Need.objects.exists()
    response = client.post(url, {"text": "x", "owner": held.wang.pk, "due": "tomorrow"}, follow=True)
    assert "完成期限" in response.content.decode() and not held.meeting.decisions.exists()
    response = client.post(url, {"text": "x", "owner": held.users["secretary_b"].person.pk, "due": due}, follow=True)
    assert "请选择责任人" in response.content.decode()


def test_the_owner_is_told_of_their_decision(held: Any, settings: Any, tmp_path: Any) -> None:
    from linli.accounts.sms import read_outbox
    from linli.testing import deliver_notifications

    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    decision = decide(held)
    deliver_notifications()
    [sms] = [m for m in read_outbox() if m["to"] == held.wang.phone and "负责落实" in m["body"]]
    assert sms["body"].startswith("【邻里】议事会决定由您负责落实：疏通3栋排水管")
    assert sms["body"].endswith(reverse("deliberation:decision", kwargs={"pk": decision.pk}))


def test_a_decision_spawns_a_vote(held: Any) -> None:
    decision = decide(held)
    vote = services.decision_spawn_vote(actor=held.secretary, decision=decision, rule="two_thirds")
    decision.refresh_from_db()
    assert decision.vote == vote and Vote.objects.get(pk=vote.pk).meeting == held.meeting
    assert vote.topic == held.drains and vote.rule == "two_thirds" and vote.options.count() == 3
    with pytest.raises(ValidationError, match="已提交表决"):
        services.decision_spawn_vote(actor=held.secretary, decision=decision)


def test_progress_by_the_owner_and_the_topic_done_when_its_decisions_are(held: Any) -> None:
    first, second = decide(held), decide(held)
    wang = held.users["wang"]
    with pytest.raises(PermissionDenied):
        services.decision_report(actor=held.users["resident"], decision=first, text="我来")
    services.decision_report(actor=wang, decision=first, text="已联系水务")
    services.decision_report(actor=wang, decision=first, text="已疏通", status=DecisionStatus.DONE)
    held.drains.refresh_from_db()
    assert held.drains.status == TopicStatus.DECIDED  # the second is still open
    with pytest.raises(ValidationError, match="须说明理由"):
        services.decision_report(actor=held.secretary, decision=second, text="", status=DecisionStatus.DROPPED)
    services.decision_report(actor=held.secretary, decision=second, text="与第一项重复", status=DecisionStatus.DROPPED)
    held.drains.refresh_from_db()
    assert held.drains.status == TopicStatus.DONE
    # the topic's page reads its decisions and their progress
    services.minutes_save(actor=held.secretary, meeting=held.meeting, text="决定疏通")
    services.minutes_publish(actor=held.secretary, meeting=held.meeting)
    found = sel.decisions_of_topic(held.users["resident"], held.drains)
    assert [(d.pk, d.status, d.progress) for d in found] == [
        (first.pk, DecisionStatus.DONE, "已疏通"),
        (second.pk, DecisionStatus.DROPPED, "与第一项重复"),
    ]
    assert [n.text for n in found[0].notes.all()] == ["已联系水务", "已疏通"]


def test_residents_read_decisions_only_once_the_minutes_are_published(held: Any) -> None:
    decision = decide(held)
    resident = held.users["resident"]
    assert sel.decisions_of_topic(resident, held.drains) == []
    assert sel.decisions_of_topic(held.users["wang"], held.drains) == [decision]  # the owner
    assert sel.decisions_of_topic(held.users["secretary_b"], held.drains) == []
    services.minutes_save(actor=held.secretary, meeting=held.meeting, text="决定")
    services.minutes_publish(actor=held.secretary, meeting=held.meeting)
    assert sel.decisions_of_topic(resident, held.drains) == [decision]
    assert sel.decisions_of_topic(held.users["secretary_b"], held.drains) == []


# --- the street's page ----------------------------------------------------------------------------


def test_overdue_decisions_on_the_street_page(client: Any, held: Any) -> None:
    past = plan(held, starts_at=timezone.now() - dt.timedelta(days=40))
    for _n in range(3):
        decide(held, meeting=past, with_topic=False, due=timezone.localdate() - dt.timedelta(days=5))
    decide(held, meeting=past, with_topic=False)  # not due yet
    done = decide(held, meeting=past, with_topic=False, due=timezone.localdate() - dt.timedelta(days=5))
    services.decision_report(actor=held.secretary, decision=done, text="好了", status=DecisionStatus.DONE)
    other = plan(held, "b", starts_at=timezone.now() - dt.timedelta(days=40), title="常四议事会")
    late_b = services.decision_create(
        actor=held.users["secretary_b"],
        meeting=other,
        text="修路灯",
        owner=held.users["secretary_b"].person,
        due=timezone.localdate() - dt.timedelta(days=1),
    )
    url = reverse("deliberation:decisions_overdue", kwargs={"code": held.street.code})
    sign_in(client, held.users["street_official"])
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "常二社区" in body and "常四社区" in body and "共 4 项" in body
    groups = response.context["groups"]
    assert [(c.code, n) for c, n in groups] == [(held.community_a.code, 3), (held.community_b.code, 1)]
    narrowed = client.get(url, {"community": held.community_b.code})
    assert [d.pk for d in narrowed.context["page"]] == [late_b.pk]
    for _n in range(10):
        decide(held, meeting=past, with_topic=False, due=timezone.localdate() - dt.timedelta(days=2))
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few), "the street page's queries grow with its rows"
    for who in ("secretary", "secretary_b", "grid_worker"):
        sign_in(client, held.users[who])
        assert client.get(url).status_code == 404, who
    district = reverse("deliberation:decisions_overdue", kwargs={"code": held.district.code})
    sign_in(client, held.users["district_official"])
    assert "共 14 项" in client.get(district).content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_meetings_rsvp_checkin_and_decisions(held: Any) -> None:
    api = APIClient()
    sign_in(api, held.users["wang"])
    response = api.get("/api/meetings/")
    assert response.status_code == 200
    assert_matches_schema("GET", "/api/meetings/", 200, response.json())
    detail = api.get(f"/api/meetings/{held.meeting.pk}/")
    assert_matches_schema("GET", f"/api/meetings/{held.meeting.pk}/", 200, detail.json())
    [row] = [r for r in response.json()["results"] if r["id"] == held.meeting.pk]
    assert row["my_rsvp"] == "pending" and row["minutes"] is None and row["agenda"][0]["topic"] == held.drains.pk
    response = api.post(f"/api/meetings/{held.meeting.pk}/rsvp/", {"rsvp": "yes"}, format="json")
    assert response.status_code == 200 and response.json()["my_rsvp"] == "yes"
    assert api.post(f"/api/meetings/{held.meeting.pk}/rsvp/", {"rsvp": "x"}, format="json").status_code == 400
    response = api.post("/api/meetings/checkin/", {"token": held.meeting.checkin_token}, format="json")
    assert response.status_code == 200 and response.json() == {"meeting": held.meeting.pk, "first": True}
    assert_matches_schema("POST", "/api/meetings/checkin/", 200, response.json())
    response = api.post("/api/meetings/checkin/", {"token": held.meeting.checkin_token}, format="json")
    assert response.json()["first"] is False
    assert api.post("/api/meetings/checkin/", {"token": "nope"}, format="json").status_code == 404
    decision = decide(held)
    body = api.get("/api/decisions/").json()
    assert_matches_schema("GET", "/api/decisions/", 200, body)
    assert_matches_schema(
        "GET", f"/api/decisions/{decision.pk}/", 200, api.get(f"/api/decisions/{decision.pk}/").json()
    )
    rows = body["results"]
    assert [r["id"] for r in rows] == [decision.pk] and rows[0][
        "owner_name"
    ] == "王*"  # masked: a resident sees no one in full
    assert api.get("/api/decisions/", {"status": "x"}).status_code == 400
    resident = APIClient()
    sign_in(resident, held.users["resident"])
    assert resident.get("/api/decisions/").json()["results"] == []  # minutes not published
    assert resident.post("/api/meetings/checkin/", {"token": held.meeting.checkin_token}).status_code == 403


def test_lists_take_a_fixed_number_of_queries(client: Any, held: Any) -> None:
    api = APIClient()
    sign_in(api, held.users["wang"])
    sign_in(client, held.secretary)
    urls = [
        (client, reverse("deliberation:meetings_place", kwargs={"code": held.community_a.code})),
        (client, reverse("deliberation:decisions_place", kwargs={"code": held.community_a.code})),
        (client, reverse("deliberation:meetings_mine")),
        (api, "/api/meetings/"),
        (api, "/api/decisions/"),
    ]

    def counts() -> list[int]:
        found = []
        for who, url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert who.get(url).status_code == 200, url
            found.append(len(queries))
        return found

    decide(held)
    before = counts()
    for n in range(5):
        meeting = plan(held, title=f"议事会{n}", topics=[topic(held, title=f"议题{n}")], agenda=["其他"])
        services.invite_by_households(actor=held.secretary, meeting=meeting, households=[held.household_102])
        decide(held, meeting=meeting, with_topic=False)
    assert counts() == before


@pytest.mark.parametrize("passed", [True, False])
def test_a_decision_learns_the_result_of_its_vote(held: Any, passed: bool) -> None:
    from linli.deliberation.hooks import vote_closed

    decision = decide(held)
    vote = services.decision_spawn_vote(actor=held.secretary, decision=decision)
    # the votes part closes it and calls the hook inside its transaction; here, by hand
    vote.status, vote.closed_at, vote.result = "closed", timezone.now(), {"passed": passed}
    vote.save(update_fields=["status", "closed_at", "result"])
    vote_closed(vote)
    decision.refresh_from_db()
    held.drains.refresh_from_db()
    if passed:
        assert decision.status == DecisionStatus.OPEN and decision.progress == "表决通过，请抓紧落实"
        assert held.drains.status == TopicStatus.DECIDED
    else:
        assert decision.status == DecisionStatus.DROPPED and decision.notes.get().status == DecisionStatus.DROPPED
        assert held.drains.status == TopicStatus.DECIDED  # nothing done, nothing left open: still decided
