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
from linli.deliberation.services.votes import paper_hand_out, paper_key, vote_cast, vote_close, vote_create, vote_open
from linli.deliberation.tests.meetings_world import plan
from linli.deliberation.tests.test_votes import add_household, opened, voter
from linli.testing import sign_in

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


# --- secret ballots: what the counters can subtract ---------------------------------------------------


def test_a_lone_online_voter_in_a_secret_vote_is_not_read_by_subtracting_the_paper(world: Any, client: Any) -> None:
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
    sign_in(client, lone)
    page = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="result-withheld"' in page and "网上投票的不足五人" in page and 'id="result-options"' not in page


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


# --- doors that were tried and held ---------------------------------------------------------------------


def test_another_communitys_rows_are_404_by_id_and_a_resident_runs_nothing(world: Any, client: Any) -> None:
    from linli.deliberation.tests.meetings_world import meetings_of

    made = meetings_of(world)
    house = add_household(world, "701")
    resident = voter(world, house, "probe-r")
    mine = opened(world, title="本社区的表决")
    add_household(world, "702", tag="b")
    other_vote = vote_create(actor=world.secretary_b, place=world.community_b, title="别的社区的表决")
    other_vote = vote_open(actor=world.secretary_b, vote=other_vote)
    b = made["b"]
    api = APIClient()
    sign_in(api, resident)
    for url in (
        f"/api/votes/{other_vote.pk}/",
        f"/api/votes/{other_vote.pk}/results/",
        f"/api/meetings/{b['meeting'].pk}/",
        f"/api/decisions/{b['decision'].pk}/",
    ):
        assert api.get(url).status_code == 404, url
    cast = api.post(f"/api/votes/{other_vote.pk}/cast/", {"choices": ["yes"]}, format="json")
    assert cast.status_code == 404
    sign_in(client, resident)
    for name, pk in (
        ("deliberation:vote", other_vote.pk),
        ("deliberation:meeting", b["meeting"].pk),
        ("deliberation:decision", b["decision"].pk),
        ("deliberation:meeting_ics", b["meeting"].pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    file_url = reverse("deliberation:minutes_file", args=[b["meeting"].pk, b["attachment"].pk])
    assert client.get(file_url).status_code == 404
    # a resident of the community: none of the staff's doors open, and nothing is written
    for name in ("vote_open", "vote_close", "vote_paper", "vote_entry", "vote_proxy"):
        response = client.post(reverse(f"deliberation:{name}", args=[mine.pk]), {"elector": "1", "sheet": "S1"})
        assert response.status_code in (403, 404), name
    a = made["a"]["meeting"]
    for name in ("meeting_tick", "meeting_minutes", "meeting_cancel", "meeting_edit", "decision_new"):
        response = client.post(reverse(f"deliberation:{name}", args=[a.pk]), {"person": str(resident.person.pk)})
        assert response.status_code in (403, 404), name
    mine.refresh_from_db()
    assert mine.status == "open" and not Participation.objects.filter(vote=mine).exists()


def test_one_ballot_per_elector_across_channels_and_none_for_a_neighbour(world: Any, client: Any) -> None:
    mine, theirs = add_household(world, "711"), add_household(world, "712")
    vote = opened(world, title="加装电梯")
    me = voter(world, mine, "probe-me")
    neighbour_line = Elector.objects.get(vote=vote, household=theirs)
    sign_in(client, me)
    url = reverse("deliberation:vote_cast", args=[vote.pk])
    refused = client.post(url, {"choice": "yes", "elector": str(neighbour_line.pk)})
    assert refused.status_code == 403
    assert client.post(url, {"choice": "yes"}).status_code == 302
    api = APIClient()
    sign_in(api, me)
    again = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["no"], "channel": "meeting"}, format="json")
    assert again.status_code in (400, 409)
    again = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["no"]}, format="json")
    assert again.status_code == 409
    assert Participation.objects.filter(vote=vote).count() == 1


def test_next_leaves_not_the_site_and_a_check_in_link_writes_nothing(world: Any, client: Any) -> None:
    topic = topic_propose(actor=world.users["secretary"], place=world.community_a, title="东门路灯不亮了怎么办")
    sign_in(client, world.users["resident"])
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        response = client.post(reverse("deliberation:topic_support", args=[topic.pk]), {"next": target})
        assert response.status_code == 302 and "evil" not in response["Location"], target
        assert not response["Location"].startswith("javascript")
    meeting = plan(world, starts_at=timezone.now() + dt.timedelta(minutes=30))
    meeting_services.invite_by_place(actor=world.secretary, meeting=meeting, place=world.community_a)
    page = client.get(reverse("deliberation:meeting_checkin", args=[meeting.checkin_token]))
    assert page.status_code == 200 and not meeting.attendance.exists()
    guessed = client.get(reverse("deliberation:meeting_checkin", args=["x" * 22]))
    assert guessed.status_code == 404


def test_markup_in_what_residents_write_is_text(world: Any, client: Any) -> None:
    evil = '<img src=x onerror="alert(1)">'
    topic = topic_propose(actor=world.users["resident"], place=world.community_a, title=f"议题{evil}", body=evil)
    topic_accept(actor=world.secretary, topic=topic)
    meeting = plan(world, title=f"会{evil}", topics=[topic], agenda=[evil])
    meeting_services.invite_by_place(actor=world.secretary, meeting=meeting, place=world.community_a)
    sign_in(client, world.users["resident"])
    for url in (
        reverse("deliberation:topic", args=[topic.pk]),
        reverse("deliberation:topics"),
        reverse("deliberation:meeting", args=[meeting.pk]),
    ):
        text = client.get(url).content.decode()
        assert evil not in text and "&lt;img" in text, url
    fragment = client.post(reverse("deliberation:topic_support", args=[topic.pk]), HTTP_HX_REQUEST="true")
    assert evil not in fragment.content.decode()
    sign_in(client, world.secretary)
    door = client.get(reverse("deliberation:meeting_door", args=[meeting.pk])).content.decode()
    assert evil not in door


def test_minutes_files_are_checked_by_their_bytes_and_served_as_attachments(world: Any, client: Any) -> None:
    from django.core.exceptions import ValidationError

    from linli.deliberation.tests.meetings_world import meetings_of

    meeting = meetings_of(world)["a"]["meeting"]
    for name, content in (
        ("x.html", b"<script>alert(1)</script>"),
        ("x.svg", b"<svg onload=alert(1)>"),
        ("x.pdf", b"<html><script>alert(1)</script>"),
        ("x.docx", b"%PDF-1.4"),
    ):
        with pytest.raises(ValidationError):
            meeting_services.minutes_attach(actor=world.secretary, meeting=meeting, name=name, content=content)
    row = meeting_services.minutes_attach(
        actor=world.secretary, meeting=meeting, name="../../etc/passwd.pdf", content=b"%PDF-1.4\n%%EOF\n"
    )
    assert row.name == "passwd.pdf" and ".." not in row.file.name
    sign_in(client, world.users["resident"])
    response = client.get(reverse("deliberation:minutes_file", args=[meeting.pk, row.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_meeting_in_year_one_is_refused_and_the_lists_stay_up(world: Any, client: Any) -> None:
    """0001-01-01 00:00 in Beijing is 1 BC in UTC: PostgreSQL stored it and then every read of
    the row failed, so one typo took down the community's meeting pages (a 500)."""
    from linli.deliberation.models import Meeting

    sign_in(client, world.secretary)
    before = Meeting.objects.count()
    for day in ("0001-01-01", "9999-12-31"):
        form = {"kind": "bench", "title": "年份", "date": day, "start": "00:00", "end": "01:00", "venue": "活动室"}
        response = client.post(reverse("deliberation:meeting_new", args=[world.community_a.code]), form)
        assert response.status_code == 200 and "会议日期须在2000年至2100年之间" in response.content.decode()
    assert Meeting.objects.count() == before
    for url in ("/deliberation/meetings/", f"/deliberation/meetings/place/{world.community_a.code}/", "/api/meetings/"):
        assert client.get(url).status_code == 200, url


def test_a_vote_closing_past_the_year_9999_in_utc_is_refused_and_the_lists_stay_up(world: Any, client: Any) -> None:
    """9999-12-31 23:59 at UTC-12 is the year 10000 in UTC: PostgreSQL stored it, Python could
    not read it back, and every list of the place's votes (page and API) was a 500."""
    from linli.deliberation.models import Vote

    sign_in(client, world.secretary)
    url = reverse("deliberation:vote_new", args=[world.community_a.code])
    response = client.post(url, {"title": "远期表决", "closes_at": "9999-12-31T23:59-12:00"}, follow=True)
    assert response.status_code == 200 and "截止时间须在2100年之前" in response.content.decode()
    assert not Vote.objects.filter(title="远期表决").exists()
    for page in (f"/deliberation/votes/p/{world.community_a.code}/", "/api/votes/"):
        assert client.get(page).status_code == 200, page
