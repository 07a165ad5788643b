"""The votes' pages and API: a secretary puts a matter to a vote and opens it, residents vote on
their phones (a second ballot is a 409 naming the channel), staff key paper twice and enter a
door-to-door ballot, the vote closes with its result, the 公示 and the published JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from linli.core.access import Role
from linli.deliberation.models import Elector, Participation, Vote, VoteStatus
from linli.deliberation.services.votes import vote_cast, vote_close
from linli.deliberation.tests.test_votes import add_household, head_of, opened, voter
from linli.testing import make_user, sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


def test_the_journey_through_the_pages(client: Any, world: Any) -> None:
    houses = [add_household(world, f"1{n:02d}") for n in range(2, 6)]
    sign_in(client, world.secretary)
    community = world.community_a
    page = client.get(reverse("deliberation:votes", args=[community.code]))
    assert page.status_code == 200 and "发起表决" in page.content.decode()
    made = client.post(
        reverse("deliberation:vote_new", args=[community.code]),
        {"title": "是否在小区加装电梯", "electorate": "households", "rule": "majority", "options_kind": "yes_no"},
    )
    vote = Vote.objects.get(title="是否在小区加装电梯")
    assert made.status_code == 302 and made["Location"] == reverse("deliberation:vote", args=[vote.pk])
    refused = client.post(
        reverse("deliberation:vote_new", args=[community.code]),
        {"title": "业主无记名", "electorate": "owners", "rule": "art278_ordinary", "secret": "1"},
        follow=True,
    )
    assert "面积" in refused.content.decode() and not Vote.objects.filter(title="业主无记名").exists()
    client.post(reverse("deliberation:vote_open", args=[vote.pk]))
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN

    resident = world.users["resident"]
    sign_in(client, resident)
    home = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="ballot-form"' in home and vote.register_fingerprint in home
    cast = client.post(reverse("deliberation:vote_cast", args=[vote.pk]), {"choice": "yes"})
    assert cast.status_code == 302
    again = client.post(reverse("deliberation:vote_cast", args=[vote.pk]), {"choice": "no"})
    assert again.status_code == 409 and "网上投票" in again.content.decode()
    after = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="my-ballot"' in after and 'id="ballot-form"' not in after
    assert "1 / 5" in after  # participation so far, by head; no choice counts before close
    assert 'id="vote-result"' not in after
    # the to-do lists the votes waiting for the reader
    other = voter(world, houses[0], "v0")
    sign_in(client, other)
    todo = client.get(reverse("deliberation:votes", args=[community.code]) + "?mine=1").content.decode()
    assert vote.title in todo

    # staff: paper keyed twice (the second by another account), and a door-to-door ballot
    line = Elector.objects.get(vote=vote, household=houses[1])
    sign_in(client, world.grid_worker)
    paper = reverse("deliberation:vote_paper", args=[vote.pk])
    assert client.get(paper).status_code == 200
    client.post(paper, {"sheet": "A1", "elector": line.pk, "choice": "no"})
    same = client.post(paper, {"sheet": "A1", "elector": line.pk, "choice": "no"}, follow=True)
    assert "另一位工作人员" in same.content.decode()
    sign_in(client, world.secretary)
    client.post(paper, {"sheet": "A1", "elector": line.pk, "choice": "no"})
    assert Participation.objects.get(vote=vote, elector=line).channel == "paper"
    client.post(paper, {"sheet": "A2", "elector": "x", "choice": "no"})  # not a register number: a message
    odd = Elector.objects.get(vote=vote, household=houses[3])
    client.post(paper, {"sheet": "A3", "elector": odd.pk, "choice": "yes"})
    sign_in(client, world.grid_worker)
    client.post(paper, {"sheet": "A3", "elector": odd.pk, "choice": "abstain"})
    listed = client.get(paper).content.decode()
    assert 'id="mismatch-count">1<' in listed.replace(" ", "") or ">1</span>" in listed
    assert f"#{odd.pk} 同意" in listed and f"#{odd.pk} 弃权" in listed
    client.post(paper, {"sheet": "A3", "elector": odd.pk, "choice": "abstain"})  # the grid worker's own: refused
    sign_in(client, world.community_staff)
    client.post(paper, {"sheet": "A3", "elector": odd.pk, "choice": "abstain"})  # settles it
    assert Participation.objects.get(vote=vote, elector=odd).channel == "paper"
    sign_in(client, world.secretary)
    door = Elector.objects.get(vote=vote, household=houses[2])
    entry = reverse("deliberation:vote_entry", args=[vote.pk])
    assert client.get(entry).status_code == 200
    collector = world.users["building_leader"].person
    client.post(entry, {"elector": door.pk, "channel": "door", "collector": collector.pk, "choice": "yes"})
    assert Participation.objects.get(vote=vote, elector=door).collector == collector
    client.post(reverse("deliberation:vote_close", args=[vote.pk]))
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CLOSED
    done = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="vote-result"' in done and "<strong>未通过</strong>" in done  # 2 of 4 agree: not more than half
    assert "上门收票 1、网上投票 1、纸质票 2" in done  # participation by channel (named votes only)
    assert vote.result["passed"] is False and vote.result["voters"] == 4
    notice = client.get(reverse("deliberation:vote_notice", args=[vote.pk])).content.decode()
    assert vote.register_fingerprint in notice and "过半数" in notice
    download = client.get(reverse("deliberation:vote_register_json", args=[vote.pk]))
    document = json.loads(download.content)
    assert document["register_fingerprint"] == vote.register_fingerprint
    assert len(document["electors"]) == 5 and len(document["ballots"]) == 4
    assert head_of(houses[0]).name not in download.content.decode("utf-8")


def test_the_api_lists_casts_and_counts(world: Any) -> None:
    houses = [add_household(world, f"1{n:02d}") for n in range(2, 4)]
    vote = opened(world)
    api = APIClient()
    sign_in(api, world.users["resident"])
    listed = api.get("/api/votes/").json()
    assert_matches_schema("GET", "/api/votes/", 200, listed)
    assert [v["id"] for v in listed["results"]] == [vote.pk]
    detail = api.get(f"/api/votes/{vote.pk}/").json()
    assert_matches_schema("GET", f"/api/votes/{vote.pk}/", 200, detail)
    assert [o["code"] for o in detail["options"]] == ["yes", "no", "abstain"]
    cast = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["yes"]}, format="json")
    assert cast.status_code == 201 and cast.json() == {"counted": True, "channel": "online", "lines": 1}
    assert_matches_schema("POST", f"/api/votes/{vote.pk}/cast/", 201, cast.json())
    again = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["no"]}, format="json")
    assert again.status_code == 409 and "网上投票" in again.json()["detail"]
    bad = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["maybe"]}, format="json")
    assert bad.status_code in (400, 409)
    running = api.get(f"/api/votes/{vote.pk}/results/").json()
    assert running["result"] is None and running["participation_heads"]["part"] == 1
    vote_cast(actor=voter(world, houses[0], "a0"), vote=vote, choices=["no"])
    vote_close(actor=world.secretary, vote=vote)
    closed = api.get(f"/api/votes/{vote.pk}/results/").json()
    assert_matches_schema("GET", f"/api/votes/{vote.pk}/results/", 200, closed)
    assert closed["result"]["passed"] is False and closed["result"]["options"][0]["heads"] == 1
    outsider = make_user("outsider_api", Role.RESIDENT, world.household_place_b)
    sign_in(api, outsider)
    assert api.get(f"/api/votes/{vote.pk}/").status_code == 404
    assert api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["yes"]}, format="json").status_code == 404


def test_the_home_page_offers_the_votes_and_counts_those_waiting(client: Any, world: Any) -> None:
    from linli.core.registry import todos_for

    vote = opened(world)
    resident = world.users["resident"]
    [todo] = [t for t in todos_for(resident) if t.key == "todo-votes"]
    assert todo.count == 1
    sign_in(client, resident)
    home = client.get("/").content.decode()
    assert reverse("deliberation:votes", args=[world.community_a.code]) in home
    listed = client.get(todo.href).content.decode()
    assert listed.count('<li><a href="/deliberation/votes/') == 1 and vote.title in listed
    vote_cast(actor=resident, vote=vote, choices=["yes"])
    # nothing waits any more: the to-do leaves the home page, and the list it linked is empty
    assert not [t for t in todos_for(resident) if t.key == "todo-votes"]
    assert vote.title not in client.get(todo.href).content.decode()


def test_a_draft_is_for_its_organisers_and_the_list_costs_the_same_whatever_its_length(client: Any, world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.deliberation.services.votes import vote_create

    draft = vote_create(actor=world.secretary, place=world.community_a, title="草拟中的表决")
    api = APIClient()
    sign_in(api, world.users["resident"])
    assert api.get(f"/api/votes/{draft.pk}/").status_code == 404
    sign_in(api, world.secretary)
    assert api.get(f"/api/votes/{draft.pk}/").status_code == 200
    sign_in(client, world.users["resident"])
    url = reverse("deliberation:votes", args=[world.community_a.code])
    opened(world)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        opened(world, title=f"表决{n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "表决4" in page and "草拟中的表决" not in page
    assert len(many) == len(few)


def test_representatives_are_named_when_the_vote_opens(client: Any, world: Any) -> None:
    from linli.deliberation.services.votes import vote_create

    vote = vote_create(actor=world.secretary, place=world.community_a, title="代表表决", electorate="representatives")
    sign_in(client, world.secretary)
    page = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert f'name="representative" value="{world.resident_a.pk}"' in page
    client.post(reverse("deliberation:vote_open", args=[vote.pk]), {"representative": [world.resident_a.pk, "x"]})
    assert list(Elector.objects.filter(vote=vote).values_list("person_id", flat=True)) == [world.resident_a.pk]


def test_numbers_out_of_range_are_refused_not_errors(client: Any, world: Any) -> None:
    vote = opened(world)
    huge = "9" * 25
    sign_in(client, world.secretary)
    assert client.get(f"/deliberation/votes/{huge}/").status_code == 404
    assert client.get(f"/deliberation/votes/proxies/{huge}/scan/").status_code == 404
    for url in (reverse("deliberation:vote_entry", args=[vote.pk]), reverse("deliberation:vote_paper", args=[vote.pk])):
        response = client.post(
            url, {"elector": huge, "sheet": "H1", "channel": "door", "collector": huge, "choice": "yes"}
        )
        assert response.status_code == 302, url
    made = client.post(
        reverse("deliberation:vote_new", args=[world.community_a.code]),
        {"title": "大数", "topic": huge, "meeting": huge, "max_choices": huge, "closes_at": "不是时间"},
    )
    assert made.status_code == 302
    api = APIClient()
    sign_in(api, world.users["resident"])
    cast = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["yes"], "elector": int(huge)}, format="json")
    assert cast.status_code == 400
    assert api.get(f"/api/votes/{huge}/").status_code == 404


@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant", "en"])
def test_every_votes_page_renders_in_every_language(client: Any, world: Any, lang: str) -> None:
    running = opened(world, options_kind="one_of", options=["甲", "乙"], secret=True)
    closed = opened(world, title="已结束的表决")
    vote_cast(actor=world.users["resident"], vote=closed, choices=["yes"])
    vote_close(actor=world.secretary, vote=closed)
    client.cookies["linli_lang"] = lang
    sign_in(client, world.secretary)
    for url in (
        reverse("deliberation:votes", args=[world.community_a.code]),
        reverse("deliberation:vote", args=[running.pk]),
        reverse("deliberation:vote", args=[closed.pk]),
        reverse("deliberation:vote_notice", args=[closed.pk]),
        reverse("deliberation:vote_paper", args=[running.pk]),
        reverse("deliberation:vote_entry", args=[running.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, (lang, url)
        assert f'lang="{lang}"' in response.content.decode()


def test_the_secretary_cancels_a_vote_from_its_page(client: Any, world: Any) -> None:
    vote = opened(world)
    sign_in(client, world.secretary)
    url = reverse("deliberation:vote", args=[vote.pk])
    page = client.get(url).content.decode()
    assert 'id="cancel-vote"' in page and reverse("deliberation:vote_cancel", args=[vote.pk]) in page
    refused = client.post(reverse("deliberation:vote_cancel", args=[vote.pk]), {"reason": ""}, follow=True)
    assert refused.status_code == 200 and "请填写取消原因" in refused.content.decode()
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.OPEN
    done = client.post(reverse("deliberation:vote_cancel", args=[vote.pk]), {"reason": "表决事项有误"})
    assert done.status_code == 302 and done["Location"] == url
    page = client.get(url).content.decode()
    assert "本次表决已取消" in page and "表决事项有误" in page and 'id="cancel-vote"' not in page
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.CANCELLED
    again = client.post(reverse("deliberation:vote_cancel", args=[vote.pk]), {"reason": "再取消"}, follow=True)
    assert again.status_code == 200 and "只有草拟中或投票中的表决可以取消" in again.content.decode()
    sign_in(client, world.grid_worker)
    assert 'id="cancel-vote"' not in client.get(reverse("deliberation:vote", args=[opened(world).pk])).content.decode()


def test_the_api_cancels_a_vote_for_its_organisers(world: Any) -> None:
    vote = opened(world)
    api = APIClient()
    sign_in(api, world.grid_worker)
    assert api.post(f"/api/votes/{vote.pk}/cancel/", {"reason": "无权取消"}, format="json").status_code == 403
    sign_in(api, world.secretary)
    assert api.post(f"/api/votes/{vote.pk}/cancel/", {"reason": ""}, format="json").status_code == 400
    done = api.post(f"/api/votes/{vote.pk}/cancel/", {"reason": "表决事项有误"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert_matches_schema("POST", f"/api/votes/{vote.pk}/cancel/", 200, body)
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "表决事项有误") and body["cancelled_at"]
    assert api.post(f"/api/votes/{vote.pk}/cancel/", {"reason": "再取消"}, format="json").status_code == 409
    assert api.get(f"/api/votes/{vote.pk}/results/").json()["result"] is None
