"""The staff's actions on votes through the API, as the pages have them: a secretary puts a
matter to a vote, opens and closes it; staff key paper twice (two accounts count it once), enter
a door-to-door ballot and hand out a secret vote's paper. A resident is refused, another
community's staff get 404, bad input is a 400 with the service's message in the reader's
language, retries with an ``Idempotency-Key`` write once, and every answer matches the schema."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from linli.deliberation.models import (
    Channel,
    Elector,
    OptionsKind,
    PaperEntry,
    Participation,
    Vote,
    VoteStatus,
)
from linli.deliberation.services.votes import paper_hand_out, vote_create
from linli.deliberation.tests.test_votes import add_household, opened
from linli.testing import sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


def api_as(user: Any) -> APIClient:
    api = APIClient()
    sign_in(api, user)
    return api


def test_a_secretary_creates_opens_and_closes_a_vote(world: Any) -> None:
    add_household(world, "102")
    api = api_as(world.secretary)
    made = api.post(
        "/api/votes/",
        {
            "place": world.community_a.code,
            "title": "是否在小区加装电梯",
            "options_kind": "one_of",
            "options": ["加装", "不加装"],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-1",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert_matches_schema("POST", "/api/votes/", 201, body)
    assert body["status"] == VoteStatus.DRAFT and [o["label"] for o in body["options"]] == ["加装", "不加装"]
    again = api.post(
        "/api/votes/",
        {
            "place": world.community_a.code,
            "title": "是否在小区加装电梯",
            "options_kind": "one_of",
            "options": ["加装", "不加装"],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-1",
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Vote.objects.filter(title="是否在小区加装电梯").count() == 1

    opened_ = api.post(f"/api/votes/{body['id']}/open/", {}, format="json")
    assert opened_.status_code == 200, opened_.json()
    assert_matches_schema("POST", f"/api/votes/{body['id']}/open/", 200, opened_.json())
    assert opened_.json()["status"] == VoteStatus.OPEN and opened_.json()["register_fingerprint"]
    twice = api.post(f"/api/votes/{body['id']}/open/", {}, format="json")
    assert twice.status_code == 409 and twice.json()["detail"] == "只有草拟中的表决可以开始"

    closed = api.post(f"/api/votes/{body['id']}/close/")
    assert closed.status_code == 200, closed.json()
    assert_matches_schema("POST", f"/api/votes/{body['id']}/close/", 200, closed.json())
    assert closed.json()["status"] == VoteStatus.CLOSED
    assert api.post(f"/api/votes/{body['id']}/close/").status_code == 409


def test_creating_refuses_bad_input_in_the_readers_language(world: Any) -> None:
    api = api_as(world.secretary)
    english = api.post(
        "/api/votes/",
        {"place": world.community_a.code, "title": "x", "electorate": "aliens"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 400 and english.json()["electorate"] == ["Unknown electorate"]
    secret_owners = api.post(
        "/api/votes/",
        {"place": world.community_a.code, "title": "x", "electorate": "owners", "secret": True},
        format="json",
    )
    assert secret_owners.status_code == 400 and "面积" in secret_owners.json()["secret"][0]
    one_option = api.post(
        "/api/votes/",
        {"place": world.community_a.code, "title": "x", "options_kind": "one_of", "options": ["只有一个"]},
        format="json",
    )
    assert one_option.status_code == 400 and one_option.json()["options"] == ["请至少填写两个选项"]
    no_place = api.post("/api/votes/", {"title": "x"}, format="json")
    assert no_place.status_code == 400 and "place" in no_place.json()
    unknown_topic = api.post(
        "/api/votes/", {"place": world.community_a.code, "title": "x", "topic": 2_000_000_000}, format="json"
    )
    assert unknown_topic.status_code == 400 and unknown_topic.json()["topic"] == ["找不到这个议题"]
    huge = api.post("/api/votes/", {"place": world.community_a.code, "title": "x", "meeting": 10**20}, format="json")
    assert huge.status_code == 400 and "meeting" in huge.json()
    assert not Vote.objects.filter(title="x").exists()


def test_a_resident_and_another_communitys_staff_are_refused(world: Any) -> None:
    draft = vote_create(actor=world.secretary, place=world.community_a, title="草拟")
    running = opened(world)
    resident = api_as(world.users["resident"])
    assert (
        resident.post("/api/votes/", {"place": world.community_a.code, "title": "居民发起"}, format="json").status_code
        == 403
    )
    for name in ("close", "paper", "enter", "hand-out"):
        response = resident.post(
            f"/api/votes/{running.pk}/{name}/", {"sheet": "A1", "choices": ["yes"], "elector": 1}, format="json"
        )
        assert response.status_code == 403, (name, response.status_code)
    assert resident.post(f"/api/votes/{draft.pk}/open/", {}, format="json").status_code == 404  # drafts unseen

    other = api_as(world.users["secretary_b"])
    assert (
        other.post("/api/votes/", {"place": world.community_a.code, "title": "越界"}, format="json").status_code == 404
    )
    for name in ("open", "close", "paper", "enter", "hand-out"):
        target = draft if name == "open" else running
        response = other.post(f"/api/votes/{target.pk}/{name}/", {}, format="json")
        assert response.status_code == 404, (name, response.status_code)
    assert not Vote.objects.filter(title__in=["居民发起", "越界"]).exists()
    assert Vote.objects.get(pk=running.pk).status == VoteStatus.OPEN


def test_paper_keyed_by_two_staff_counts_once(world: Any) -> None:
    house = add_household(world, "102")
    vote = opened(world)
    line = Elector.objects.get(vote=vote, household=house)
    url = f"/api/votes/{vote.pk}/paper/"
    grid = api_as(world.grid_worker)
    first = grid.post(url, {"sheet": "A1", "choices": ["no"], "elector": line.pk}, format="json")
    assert first.status_code == 201, first.json()
    assert_matches_schema("POST", url, 201, first.json())
    assert first.json() == {"sheet": "A1", "round": 1, "status": "once"}
    retry = grid.post(
        url, {"sheet": "A2", "choices": ["yes"], "elector": line.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-a2"
    )
    replay = grid.post(
        url, {"sheet": "A2", "choices": ["yes"], "elector": line.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k-a2"
    )
    assert retry.status_code == replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert PaperEntry.objects.filter(vote=vote, sheet="A2").count() == 1
    same = grid.post(url, {"sheet": "A1", "choices": ["no"], "elector": line.pk}, format="json")
    assert same.status_code == 409 and same.json()["detail"] == "第二次录入须由另一位工作人员完成"
    second = api_as(world.secretary).post(url, {"sheet": "A1", "choices": ["no"], "elector": line.pk}, format="json")
    assert second.status_code == 201 and second.json() == {"sheet": "A1", "round": 2, "status": "counted"}
    assert Participation.objects.filter(vote=vote, elector=line).count() == 1
    assert Participation.objects.get(vote=vote, elector=line).channel == Channel.PAPER

    bad = grid.post(url, {"sheet": "", "choices": ["no"], "elector": line.pk}, format="json")
    assert bad.status_code == 400 and "sheet" in bad.json()
    unknown = grid.post(url, {"sheet": "A9", "choices": ["maybe"], "elector": line.pk}, format="json")
    assert unknown.status_code == 400 and unknown.json()["choices"] == ["没有这个选项：maybe"]
    nobody = grid.post(url, {"sheet": "A9", "choices": ["no"], "elector": 2_000_000_000}, format="json")
    assert nobody.status_code == 400 and nobody.json()["elector"] == ["名册中没有这个选民编号"]


def test_staff_enter_a_door_to_door_ballot(world: Any) -> None:
    house = add_household(world, "102")
    vote = opened(world)
    line = Elector.objects.get(vote=vote, household=house)
    url = f"/api/votes/{vote.pk}/enter/"
    api = api_as(world.secretary)
    collector = world.users["building_leader"].person
    no_collector = api.post(url, {"elector": line.pk, "choices": ["yes"], "channel": "door"}, format="json")
    assert no_collector.status_code == 400 and no_collector.json()["collector"] == ["上门收票须写明收票人"]
    online = api.post(url, {"elector": line.pk, "choices": ["yes"], "channel": "online"}, format="json")
    assert online.status_code == 400 and "channel" in online.json()
    no_proxy = api.post(url, {"elector": line.pk, "choices": ["yes"], "channel": "proxy"}, format="json")
    assert no_proxy.status_code == 400 and no_proxy.json()["channel"] == ["请先登记该选民的委托书"]
    done = api.post(
        url,
        {"elector": line.pk, "choices": ["yes"], "channel": "door", "collector": collector.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="door-102",
    )
    assert done.status_code == 201, done.json()
    assert_matches_schema("POST", url, 201, done.json())
    assert done.json() == {"counted": True, "channel": "door", "lines": 1}
    replay = api.post(
        url,
        {"elector": line.pk, "choices": ["yes"], "channel": "door", "collector": collector.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="door-102",
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Participation.objects.get(vote=vote, elector=line).collector == collector
    again = api.post(
        url, {"elector": line.pk, "choices": ["no"], "channel": "door", "collector": collector.pk}, format="json"
    )
    assert again.status_code == 409 and "detail" in again.json()


def test_staff_hand_out_a_secret_votes_paper(world: Any) -> None:
    houses = [add_household(world, f"3{n:02d}") for n in range(2)]
    vote = opened(world, secret=True, options_kind=OptionsKind.ONE_OF, options=["东门", "西门"], title="无记名")
    line = Elector.objects.get(vote=vote, household=houses[0])
    url = f"/api/votes/{vote.pk}/hand-out/"
    api = api_as(world.grid_worker)
    handed = api.post(url, {"elector": line.pk}, format="json")
    assert handed.status_code == 201, handed.json()
    assert_matches_schema("POST", url, 201, handed.json())
    assert handed.json() == {"handed_out": True, "channel": "paper"}
    assert Participation.objects.get(vote=vote, elector=line).channel == Channel.PAPER
    twice = api.post(url, {"elector": line.pk}, format="json")
    assert twice.status_code == 409
    other = Elector.objects.get(vote=vote, household=houses[1])
    door = api.post(url, {"elector": other.pk, "channel": "door"}, format="json")
    assert door.status_code == 400 and door.json()["collector"] == ["上门收票须写明收票人"]
    online = api.post(url, {"elector": other.pk, "channel": "online"}, format="json")
    assert online.status_code == 400 and online.json()["channel"] == ["未知的投票方式"]
    # a secret vote's choices are never entered by staff, and its sheets wait for five papers
    entered = api.post(
        f"/api/votes/{vote.pk}/enter/", {"elector": other.pk, "choices": ["1"], "channel": "door"}, format="json"
    )
    assert entered.status_code == 400 and "channel" in entered.json()
    keyed = api.post(f"/api/votes/{vote.pk}/paper/", {"sheet": "S1", "choices": ["1"]}, format="json")
    assert keyed.status_code == 400 and keyed.json()["sheet"] == ["发出的纸质票不足五张，暂不能录入无记名票"]
    # a named vote's paper is not handed out
    named = opened(world)
    named_line = Elector.objects.filter(vote=named).first()
    assert named_line is not None
    refused = api.post(f"/api/votes/{named.pk}/hand-out/", {"elector": named_line.pk}, format="json")
    assert refused.status_code == 400 and "channel" in refused.json()
    paper_hand_out(actor=world.grid_worker, vote=vote, elector=other)  # the service the API calls
    assert Participation.objects.filter(vote=vote).count() == 2
