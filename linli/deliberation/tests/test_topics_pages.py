"""The topics' pages and API: a resident proposes and neighbours support (with htmx and
without), a topic's page shows its origin and outcome with working links, the secretary's list
counts by status and source and makes a topic of an opinion in one tap, the rules page, the
home tile and to-do; the API lists, proposes and supports, as its schema says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.core.access import SYSTEM, Role
from linli.deliberation.models import CommunityRules, Topic, TopicSource, TopicStatus
from linli.deliberation.services.topics import (
    offer_recurring_topics,
    rules_set,
    topic_decline,
    topic_propose,
    topic_support,
)
from linli.needs.services import need_create
from linli.needs.tests.conftest import make_categories
from linli.needs.tests.helpers import page_text
from linli.testing import make_user, sign_in


def resident_client(client: Any, world: Any) -> Any:
    sign_in(client, world.users["resident"])
    return client


def neighbour(world: Any, name: str) -> Any:
    return make_user(name, Role.RESIDENT, world.places["household_place_a"])


@pytest.mark.django_db
def test_a_resident_proposes_on_the_page_and_sees_it_as_theirs(client: Any, world: Any) -> None:
    resident_client(client, world)
    page = client.get(reverse("deliberation:topics"))
    assert page.status_code == 200
    text = page_text(page.content.decode())
    assert "提一个议题" in text and "常二社区" in text
    response = client.post(
        reverse("deliberation:topic_propose"),
        {"place": world.community_a.pk, "title": "小区东门加装充电桩", "body": "电动车没地方充电，飞线充电危险"},
    )
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("deliberation:topic", args=[topic.pk])
    assert (topic.source, topic.status) == (TopicSource.PROPOSAL, TopicStatus.GATHERING)
    home = page_text(client.get(reverse("deliberation:topics")).content.decode())
    assert "我的提议" in home and "小区东门加装充电桩" in home


@pytest.mark.django_db
def test_a_bad_proposal_is_a_message_and_keeps_what_was_typed(client: Any, world: Any) -> None:
    resident_client(client, world)
    response = client.post(
        reverse("deliberation:topic_propose"),
        {"place": world.community_a.pk, "title": "短", "body": "说明文字"},
        follow=True,
    )
    assert response.status_code == 200
    text = page_text(response.content.decode())
    assert "请至少写4个字" in text and "说明文字" in text
    response = client.post(
        reverse("deliberation:topic_propose"), {"place": world.community_b.pk, "title": "别的社区"}, follow=True
    )
    assert "请选择议题所在的社区、网格或楼栋" in page_text(response.content.decode())
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_support_without_javascript_and_with_htmx(client: Any, world: Any) -> None:
    topic = topic_propose(actor=world.users["resident"], place=world.community_a, title="小区东门加装充电桩")
    sign_in(client, neighbour(world, "n1"))
    detail = reverse("deliberation:topic", args=[topic.pk])
    assert "附议" in page_text(client.get(detail).content.decode())
    response = client.post(reverse("deliberation:topic_support", args=[topic.pk]), {"next": detail})
    assert response.status_code == 302 and response["Location"] == detail
    again = client.post(reverse("deliberation:topic_support", args=[topic.pk]), {"next": detail}, follow=True)
    assert "您已附议" in page_text(again.content.decode())
    topic.refresh_from_db()
    assert topic.supports == 1
    sign_in(client, neighbour(world, "n2"))
    fragment = client.post(reverse("deliberation:topic_support", args=[topic.pk]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html and 'data-supports="2"' in html and "您已附议" in html
    twice = client.post(reverse("deliberation:topic_support", args=[topic.pk]), HTTP_HX_REQUEST="true")
    assert "您已经附议过了" in page_text(twice.content.decode())


@pytest.mark.django_db
def test_a_topic_of_recurring_needs_shows_them_with_links_that_open(client: Any, world: Any) -> None:
    make_categories()
    needs = [
        need_create(
            actor=world.users["resident"],
            text="下水道堵了，污水漫出来",
            place=world.household_place_a,
            category_code="water",
        )
        for _ in range(2)
    ] + [need_create(actor=SYSTEM, text="下水道又堵了", place=world.building_a, category_code="water")]
    assert offer_recurring_topics() == 1
    topic = Topic.objects.get()
    sign_in(client, world.users["secretary"])
    page = client.get(reverse("deliberation:topic", args=[topic.pk]))
    html = page.content.decode()
    for need in needs:
        link = reverse("needs:detail", args=[need.pk])
        assert link in html
        assert client.get(link).status_code == 200
    assert "列入待议议题" in html
    client.post(reverse("deliberation:topic_accept", args=[topic.pk]), {})
    topic.refresh_from_db()
    assert topic.status == TopicStatus.LISTED
    # a resident reads the listed topic; links only to the needs they may open (their own)
    resident_client(client, world)
    html = client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    mine, other = reverse("needs:detail", args=[needs[0].pk]), reverse("needs:detail", args=[needs[2].pk])
    assert mine in html and other not in html and f"#{needs[2].pk}" in html
    assert 'id="secretary-actions"' not in html


@pytest.mark.django_db
def test_a_topics_page_names_the_proposer_masked_and_shows_the_decline_reason(client: Any, world: Any) -> None:
    topic = topic_propose(actor=world.users["resident"], place=world.community_a, title="小区东门加装充电桩")
    topic_decline(actor=world.users["secretary"], topic=topic, reason="已纳入明年改造计划")
    resident_client(client, world)
    text = page_text(client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode())
    assert "张**" in text and "张建国" not in text
    assert "已纳入明年改造计划" in text and "不予列入" in text


@pytest.mark.django_db
def test_the_topic_page_shows_decisions_and_votes_when_there_are(client: Any, world: Any) -> None:
    from linli.deliberation.models import Decision, Meeting, MeetingKind
    from linli.deliberation.services.votes import vote_create, vote_open

    topic = topic_propose(actor=world.users["secretary"], place=world.community_a, title="社区活动室开放时间")
    resident_client(client, world)
    assert "议定与落实" not in page_text(client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode())
    now = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)
    meeting = Meeting.objects.create(
        place=world.community_a,
        kind=MeetingKind.BENCH,
        title="板凳会",
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        venue="活动室",
    )
    Decision.objects.create(
        meeting=meeting, topic=topic, text="活动室周末开放到晚九点", owner=world.resident_a, due=now.date()
    )
    vote = vote_create(actor=world.users["secretary"], place=world.community_a, title="是否延长开放时间", topic=topic)
    # a draft is its organisers' alone: the topic's page shows the vote once it is open
    assert "是否延长开放时间" not in page_text(
        client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    )
    vote_open(actor=world.users["secretary"], vote=vote)
    text = page_text(client.get(reverse("deliberation:topic", args=[topic.pk])).content.decode())
    assert "议定与落实" in text and "活动室周末开放到晚九点" in text and "是否延长开放时间" in text


@pytest.mark.django_db
def test_the_secretarys_list_counts_by_status_and_source_and_takes_up_an_opinion(client: Any, world: Any) -> None:
    from linli.visits.services import opinion_decide, visit_log

    topic_propose(actor=world.users["resident"], place=world.community_a, title="小区东门加装充电桩")
    topic_propose(actor=world.users["secretary"], place=world.community_a, title="社区活动室开放时间")
    topic_propose(actor=world.users["secretary_b"], place=world.community_b, title="常四社区的议题")
    visit = visit_log(
        actor=world.users["grid_worker"],
        household=world.household_a,
        kind="knock",
        heard="希望加装电梯",
        tags=["opinion_heard"],
    )
    opinion = opinion_decide(actor=world.users["secretary"], opinion=visit.opinion, status="topic")
    sign_in(client, world.users["secretary"])
    board = reverse("deliberation:topic_board", args=[world.community_a.code])
    html = client.get(board).content.decode()
    assert 'data-count="1"' in html and "希望加装电梯" in html and "常四社区的议题" not in html
    gathering = page_text(client.get(board + "?status=gathering").content.decode())
    assert "小区东门加装充电桩" in gathering and "社区活动室开放时间" not in gathering
    staff = page_text(client.get(board + "?source=staff").content.decode())
    assert "社区活动室开放时间" in staff and "小区东门加装充电桩" not in staff
    response = client.post(reverse("deliberation:topic_from_opinion", args=[opinion.pk]), {"next": board})
    made = Topic.objects.get(opinion=opinion)
    assert response["Location"] == reverse("deliberation:topic", args=[made.pk])
    assert "希望加装电梯" in page_text(client.get(response["Location"]).content.decode())
    assert "生成议题" not in page_text(client.get(board).content.decode())  # taken up: no longer waiting
    with CaptureQueriesContext(connection) as few:
        client.get(board)
    for n in range(5):
        topic_propose(actor=world.users["secretary"], place=world.community_a, title=f"更多的议题{n}号")
    with CaptureQueriesContext(connection) as many:
        client.get(board)
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_rules_page_saves_and_refuses_numbers_out_of_range(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    url = reverse("deliberation:topic_rules", args=[world.community_a.code])
    assert "沿用默认规则" in page_text(client.get(url).content.decode())
    set_url = reverse("deliberation:topic_rules_set", args=[world.community_a.code])
    response = client.post(
        set_url, {"support_threshold": "0", "recurring_count": "x", "recurring_days": "30"}, follow=True
    )
    assert "请填写1到500之间的整数" in page_text(response.content.decode())
    assert not CommunityRules.objects.exists()
    client.post(set_url, {"support_threshold": "5", "recurring_count": "4", "recurring_days": "14"})
    rules = CommunityRules.objects.get(community=world.community_a)
    assert (rules.support_threshold, rules.recurring_count, rules.recurring_days) == (5, 4, 14)
    assert "本社区自定的议事规则" in page_text(client.get(url).content.decode())
    grid_board = client.get(reverse("deliberation:topic_board", args=[world.grid_a.code])).content.decode()
    assert f'href="{url}"' in grid_board  # a grid's list leads to its community's rules


@pytest.mark.django_db
def test_the_home_tile_and_the_secretarys_to_do(client: Any, world: Any) -> None:
    make_categories()
    for _ in range(3):
        need_create(actor=SYSTEM, text="下水道堵了", place=world.building_a, category_code="water")
    offer_recurring_topics()
    resident_client(client, world)
    assert reverse("deliberation:topics") in client.get(reverse("home")).content.decode()
    sign_in(client, world.users["secretary"])
    html = client.get(reverse("home")).content.decode()
    todo = reverse("deliberation:topic_board", args=[world.community_a.code]) + "?status=offered"
    assert todo in html
    assert "列入待议议题" in client.get(todo).content.decode()


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_proposes_lists_and_supports(world: Any) -> None:
    from tests.schema import client_for, ok

    client = client_for(world.users["resident"])
    body = ok(
        client.post("/api/topics/", {"place": world.community_a.code, "title": "小区东门加装充电桩"}, format="json"),
        "POST",
        "/api/topics/",
        201,
    )
    assert (body["status"], body["source"], body["proposer_name"]) == ("gathering", "proposal", "张**")
    refused = client.post("/api/topics/", {"place": world.community_b.code, "title": "别的社区的议题"}, format="json")
    assert refused.status_code == 400 and "place" in refused.json()
    listed = ok(client.get("/api/topics/?status=gathering"), "GET", "/api/topics/")
    assert [t["id"] for t in listed["results"]] == [body["id"]]
    assert client.get("/api/topics/?status=nope").status_code == 400
    other = client_for(neighbour(world, "n1"))
    supported = ok(other.post(f"/api/topics/{body['id']}/support/"), "POST", f"/api/topics/{body['id']}/support/")
    assert supported["supports"] == 1
    assert other.post(f"/api/topics/{body['id']}/support/").status_code == 400
    rules_set(
        actor=world.users["secretary"],
        community=world.community_a,
        support_threshold=2,
        recurring_count=3,
        recurring_days=30,
    )
    topic_support(actor=neighbour(world, "n2"), topic=Topic.objects.get(pk=body["id"]))
    detail = ok(client.get(f"/api/topics/{body['id']}/"), "GET", f"/api/topics/{body['id']}/")
    assert (detail["status"], detail["supports"]) == ("listed", 2)
    assert client_for(world.users["secretary_b"]).get(f"/api/topics/{body['id']}/").status_code == 404


@pytest.mark.django_db
def test_the_residents_page_and_the_api_list_cost_the_same_whatever_their_length(client: Any, world: Any) -> None:
    from tests.schema import client_for

    def propose(n: int) -> None:
        for i in range(n):
            topic = topic_propose(actor=world.users["secretary"], place=world.building_a, title=f"议题第{i}号，议一议")
            topic_support(actor=world.users["resident"], topic=topic)

    propose(1)
    resident_client(client, world)
    api_client = client_for(world.users["resident"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("deliberation:topics"))
    with CaptureQueriesContext(connection) as few_api:
        api_client.get("/api/topics/")
    propose(6)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("deliberation:topics")).status_code == 200
    with CaptureQueriesContext(connection) as many_api:
        assert len(api_client.get("/api/topics/").json()["results"]) == 7
    assert len(many) == len(few)
    assert len(many_api) == len(few_api)


@pytest.mark.django_db
def test_a_phone_number_written_in_a_proposal_is_never_shown_in_clear(client: Any, world: Any) -> None:
    from tests.schema import client_for

    topic = topic_propose(
        actor=world.users["resident"],
        place=world.community_a,
        title="加装充电桩，联系13912345678",
        body="有意见请打电话13912345678找我",
    )
    sign_in(client, neighbour(world, "n1"))
    for url in (reverse("deliberation:topic", args=[topic.pk]), reverse("deliberation:topics")):
        html = client.get(url).content.decode()
        assert "加装充电桩" in html and "13912345678" not in html
    body = client_for(world.users["secretary"]).get(f"/api/topics/{topic.pk}/").content.decode()
    assert "加装充电桩" in body and "13912345678" not in body
