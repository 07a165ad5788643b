"""An attacker's probe of deliberation against a running test world: each test is a finding that
was real (it failed before its fix) or a door that was tried and held."""

from __future__ import annotations

from typing import Any

import pytest

from linli.deliberation.models import Channel, Elector, OptionsKind, Participation
from linli.deliberation.services.votes import paper_hand_out, paper_key, vote_cast, vote_close
from linli.deliberation.tests.test_votes import add_household, opened, voter

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
