"""The demo's deliberation: Anju's bench meeting and its overdue decision, Huajin's unanimous
representatives, Pingan's owners under art. 278, 游乐场社区's night talks on recurring needs,
Anju's signed convention, and what the tour's accounts see in 常二社区.

Checked by ``test_loader.test_demo_content`` on the demo it loads, so that the suite loads the
demo no more often for deliberation.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.utils import timezone

from linli.accounts.models import User
from linli.deliberation.demo import COUNT_LABELS, DATA
from linli.deliberation.models import (
    Attendance,
    Channel,
    Convention,
    Decision,
    DecisionStatus,
    Electorate,
    Meeting,
    MeetingKind,
    MeetingStatus,
    PaperEntry,
    PaperStatus,
    Participation,
    Signature,
    SignatureChannel,
    Topic,
    TopicSource,
    TopicStatus,
    VersionStatus,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors.votes import compute_result, my_electors
from linli.demo.loader import DemoSummary
from linli.people.models import Household
from linli.places.models import Place


def demo_deliberation_holds(demo: DemoSummary) -> None:
    _anju_bench()
    _huajin_unanimous()
    _pingan_art278()
    _night_talks()
    _anju_convention()
    _the_tour()
    _the_street()
    assert {key for key, _label in COUNT_LABELS} <= set(demo.seeds["deliberation"])
    assert demo.seeds["deliberation"]["overdue"] >= 1


def _anju_bench() -> None:
    anju = Place.objects.get(code="anju")
    meeting = Meeting.objects.get(place=anju, kind=MeetingKind.BENCH)
    assert meeting.status == MeetingStatus.HELD and meeting.minutes_published_at is not None
    assert meeting.starts_at < timezone.now() - dt.timedelta(days=30)
    assert meeting.agenda.count() == len(DATA["anju_bench"]["agenda"])
    methods = set(Attendance.objects.filter(meeting=meeting).values_list("method", flat=True))
    assert methods == {"qr", "staff"}
    assert meeting.invitations.count() > Attendance.objects.filter(meeting=meeting).count() > 0
    decisions = Decision.objects.filter(meeting=meeting)
    assert decisions.count() == 3
    assert {d.owner.name for d in decisions} >= {"成良", "刘光彩"}
    overdue = decisions.filter(status=DecisionStatus.OPEN, due__lt=timezone.localdate())
    assert overdue.count() == 1
    assert overdue.get().owner.memberships.filter(role="secretary", place=anju).exists()


def _huajin_unanimous() -> None:
    huajin = Place.objects.get(code="huajin")
    vote = Vote.objects.get(place=huajin)
    assert vote.electorate == Electorate.REPRESENTATIVES and vote.status == VoteStatus.CLOSED
    assert vote.meeting is not None and vote.meeting.kind == MeetingKind.REPRESENTATIVES
    result: Any = vote.result
    assert result["passed"] is True
    # unanimous: every representative on the register voted yes
    assert Participation.objects.filter(vote=vote).count() == vote.register_heads > 0
    assert all(list(c) == ["yes"] for c in vote.ballots.values_list("choices", flat=True))
    assert result == compute_result(vote)
    decision = Decision.objects.get(meeting=vote.meeting)
    assert decision.vote_id == vote.pk and decision.status == DecisionStatus.DONE


def _pingan_art278() -> None:
    linfeng = Place.objects.get(code="linfeng")
    vote = Vote.objects.get(place=linfeng, electorate=Electorate.OWNERS)
    assert vote.rule == VoteRule.ART278_SPECIAL and vote.status == VoteStatus.CLOSED
    result: Any = vote.result
    assert result["passed"] is True and result == compute_result(vote)
    tally = result["tally"]
    assert Fraction(tally["participation_area"]) >= Fraction(2, 3)
    assert Fraction(tally["participation_heads"]) >= Fraction(2, 3)
    assert Fraction(tally["yes_area"]) >= Fraction(3, 4)
    assert Fraction(tally["yes_heads"]) >= Fraction(3, 4)
    channels = set(Participation.objects.filter(vote=vote).values_list("channel", flat=True))
    assert channels == {Channel.ONLINE, Channel.DOOR, Channel.PAPER, Channel.PROXY}
    door = Participation.objects.filter(vote=vote, channel=Channel.DOOR)
    assert not door.filter(collector__isnull=True).exists()
    assert door.first().collector.name == DATA["pingan_fund"]["collector"]  # type: ignore[union-attr]
    papers = PaperEntry.objects.filter(vote=vote)
    assert not papers.exclude(status=PaperStatus.COUNTED).exists()
    for sheet in papers.values_list("sheet", flat=True).distinct():
        pair = papers.filter(sheet=sheet)
        assert pair.count() == 2 and pair.values("entered_by").distinct().count() == 2
    heads = vote.register_heads
    assert Participation.objects.filter(vote=vote).count() == heads * DATA["pingan_fund"]["turnout"] // 1000
    # every owned unit had a floor area on the register
    owned = Household.objects.filter(place__path__startswith=linfeng.path, tenure="owner").count()
    assert vote.electors.count() == owned and vote.register_area > 0


def _night_talks() -> None:
    community = Place.objects.get(code="youlechang")
    topics = Topic.objects.filter(place_path__startswith=community.path, source=TopicSource.RECURRING)
    by_code = {t.category.code: t for t in topics}  # type: ignore[union-attr]
    lighting, parking, rubbish = by_code["lighting"], by_code["parking"], by_code["sanitation"]
    assert lighting.status == TopicStatus.DONE and lighting.need_links.count() == 4
    assert parking.status == TopicStatus.SCHEDULED and parking.need_links.count() == 5
    assert rubbish.status == TopicStatus.OFFERED
    nights = Meeting.objects.filter(place=community, kind=MeetingKind.NIGHT).order_by("starts_at")
    assert nights.count() == 2
    past, upcoming = nights
    assert past.status == MeetingStatus.HELD and past.agenda.filter(topic=lighting).exists()
    assert Decision.objects.get(meeting=past).status == DecisionStatus.DONE
    assert upcoming.starts_at > timezone.now() and upcoming.agenda.filter(topic=parking).exists()


def _anju_convention() -> None:
    data = DATA["anju_convention"]
    anju = Place.objects.get(code="anju")
    convention = Convention.objects.get(place=anju)
    v1, v2 = convention.versions.order_by("number")
    assert v1.articles.count() == data["first_draft_articles"]
    assert sum(a.comments.count() for a in v1.articles.all()) == len(data["comments"])
    assert v2.status == VersionStatus.ADOPTED and v2.published_at is not None
    assert [a.text for a in v2.articles.order_by("number")] == data["articles"]
    assert v2.vote is not None and v2.vote.electorate == Electorate.HOUSEHOLDS
    assert (v2.vote.result or {})["passed"] is True
    households = Household.objects.filter(place__path__startswith=anju.path).count()
    signed = Signature.objects.filter(version=v2)
    assert signed.count() == households * data["signed_per_thousand"] // 1000
    assert set(signed.values_list("channel", flat=True)) == {SignatureChannel.ONLINE, SignatureChannel.PAPER}


def _the_tour() -> None:
    changer = Place.objects.get(code="hanxing-changer")
    resident = User.objects.get(username="resident")
    assert Meeting.objects.filter(
        place_path__startswith=changer.path, invitations__person__user=resident, starts_at__gt=timezone.now()
    ).exists()
    vote = Vote.objects.get(place_path__startswith=changer.path, status=VoteStatus.OPEN)
    assert vote.electorate == Electorate.HOUSEHOLDS
    mine = my_electors(resident, vote)
    assert mine and not Participation.objects.filter(vote=vote, elector__in=mine).exists()
    proposal = Topic.objects.get(proposer__user=resident, status=TopicStatus.GATHERING)
    assert proposal.supports >= 2
    assert Topic.objects.filter(place_path__startswith=changer.path, status=TopicStatus.OFFERED).exists()


def _the_street() -> None:
    """常四's drainage meeting (seed 004) left two decisions overdue: the street's page of
    overdue decisions shows them, by community."""
    from linli.accounts.models import User
    from linli.deliberation.selectors.meetings import overdue_by_community

    street = User.objects.get(username="street")
    rows = overdue_by_community(actor=street, place=Place.objects.get(code="hanxing"))
    assert [(place.code, n) for place, n in rows] == [("hanxing-changsi", 2)]
