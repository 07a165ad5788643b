"""An attacker's probe of deliberation against a running test world: each test is a finding that
was real (it failed before its fix) or a door that was tried and held."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from linli.deliberation.models import Channel, Elector, OptionsKind, Participation
from linli.deliberation.services import meetings as meeting_services
from linli.deliberation.services.topics import topic_accept, topic_propose
from linli.deliberation.services.votes import paper_hand_out, paper_key, vote_cast, vote_close
from linli.deliberation.tests.meetings_world import plan
from linli.deliberation.tests.test_votes import add_household, opened, voter
from linli.testing import sign_in

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


# --- secret ballots: what the counters can subtract ---------------------------------------------------


def test_a_lone_online_voter_in_a_secret_vote_is_not_read_by_subtracting_the_paper(world: Any) -> None:
    """The counters key every paper sheet of a secret vote and the register page tells them who
    voted online; if the result were published with one to four online ballots beside the paper,
    result minus paper would be the online voters' choices."""
    houses = [add_household(world, f"5{n:02d}") for n in range(6)]
    vote = opened(world, secret=True, options_kind=OptionsKind.ONE_OF, options=["东", "西"], title="无记名：门")
    lone = voter(world, houses[0], "lone")
    vote_cast(actor=lone, vote=vote, choices=["2"])
    for house in houses[1:]:
        line = Elector.objects.get(vote=vote, household=house)
        paper_hand_out(actor=world.grid_worker, vote=vote, elector=line, channel=Channel.PAPER)
    for n in range(5):  # the grid worker keys every sheet: it knows the paper's choices
        paper_key(actor=world.grid_worker, vote=vote, sheet=f"P{n}", choices=["1"])
        paper_key(actor=world.secretary, vote=vote, sheet=f"P{n}", choices=["1"])
    online = Participation.objects.filter(vote=vote, channel=Channel.ONLINE).values_list("elector_id", flat=True)
    assert list(online) == [Elector.objects.get(vote=vote, household=houses[0]).pk]  # the entry page shows it
    vote_close(actor=world.secretary, vote=vote)
    vote.refresh_from_db()
    result = vote.result
    assert result["withheld"] is True and result["options"] == [] and result["leading"] == []
    assert result["participation_heads"]["part"] == 6  # participation is still published
    assert result["reason"]


def test_a_secret_vote_all_on_paper_or_with_five_online_is_published(world: Any) -> None:
    houses = [add_household(world, f"6{n:02d}") for n in range(10)]
    vote = opened(world, secret=True, options_kind=OptionsKind.ONE_OF, options=["东", "西"], title="无记名：窗")
    for n, house in enumerate(houses[:5]):
        vote_cast(actor=voter(world, house, f"on{n}"), vote=vote, choices=["2"])
    for house in houses[5:]:
        line = Elector.objects.get(vote=vote, household=house)
        paper_hand_out(actor=world.grid_worker, vote=vote, elector=line, channel=Channel.PAPER)
    for n in range(5):
        paper_key(actor=world.grid_worker, vote=vote, sheet=f"P{n}", choices=["1"])
        paper_key(actor=world.secretary, vote=vote, sheet=f"P{n}", choices=["1"])
    vote_close(actor=world.secretary, vote=vote)
    vote.refresh_from_db()
    assert vote.result["withheld"] is False and [o["heads"] for o in vote.result["options"]] == [5, 5]


# --- personal data: a resident's topic title on the meeting's agenda ------------------------------------


def _topic_with_a_phone(world: Any) -> Any:
    topic = topic_propose(
        actor=world.users["resident"], place=world.community_a, title=f"楼下漏水请联系{PHONE}老张", body=""
    )
    return topic_accept(actor=world.secretary, topic=topic)


def test_a_phone_number_in_a_topic_title_is_masked_on_the_meetings_agenda(world: Any, client: Any) -> None:
    topic = _topic_with_a_phone(world)
    meeting = plan(world, starts_at=timezone.now() - dt.timedelta(hours=1), topics=[topic], agenda=[])
    meeting_services.invite_by_place(actor=world.secretary, meeting=meeting, place=world.community_a)
    meeting_services.minutes_save(actor=world.secretary, meeting=meeting, text="记录")
    meeting_services.minutes_publish(actor=world.secretary, meeting=meeting)
    decision = meeting_services.decision_create(
        actor=world.secretary,
        meeting=meeting,
        text="请物业修理",
        owner=world.people["resident_a"],
        due=timezone.localdate(),
        topic=topic,
    )
    sign_in(client, world.users["resident"])
    for url in (
        reverse("deliberation:meeting", args=[meeting.pk]),
        reverse("deliberation:meeting_ics", args=[meeting.pk]),
        reverse("deliberation:decision", args=[decision.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert PHONE not in response.content.decode(), url
    api = APIClient()
    sign_in(api, world.users["resident"])
    body = api.get(f"/api/meetings/{meeting.pk}/").content.decode()
    assert "老张" in body and PHONE not in body
