"""Votes through their services: the register drawn per electorate and frozen, one counted ballot
per elector across channels, paper ballots keyed twice, closing and counting through the tally,
and the same result from ``linli deliberation tally`` on the published JSON; cancelling a vote,
and what the decision and the convention's version put to it do then."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from linli.core.access import SYSTEM, Role
from linli.core.errors import Conflict
from linli.core.photos import PhotoUpload
from linli.deliberation import hooks
from linli.deliberation.models import (
    Attendance,
    Ballot,
    Channel,
    Elector,
    Electorate,
    Meeting,
    OptionsKind,
    PaperEntry,
    PaperStatus,
    Participation,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors.votes import (
    participation_so_far,
    register_fingerprint,
    stored_fingerprint,
    tally_document,
)
from linli.deliberation.services.votes import (
    close_due_votes,
    paper_key,
    proxy_record,
    vote_cancel,
    vote_cast,
    vote_close,
    vote_create,
    vote_enter,
    vote_open,
)
from linli.people.models import Household, Person, Relation, Tenure
from linli.people.services import household_create, membership_grant, person_create
from linli.testing import make_user, png_bytes, sign_in

pytestmark = pytest.mark.django_db


# --- building a register -------------------------------------------------------------------------------


def add_household(
    world: Any,
    code: str,
    *,
    area: str | None = "80.00",
    head: Person | None = None,
    tenure: str = Tenure.OWNER,
    head_name: str = "王业主",
    tag: str = "a",
) -> Household:
    """A household in community ``tag``'s building, with a new head (or ``head``: a person who
    already heads another unit, recorded as the head of this one too)."""
    household = household_create(
        actor=SYSTEM,
        building=world.places[f"building_{tag}"],
        code=f"t-{tag}-g1-b1-{code}",
        name=f"1单元{code}",
        tenure=tenure,
        floor_area=Decimal(area) if area is not None else None,
    )
    if head is None:
        person_create(actor=SYSTEM, place=household.place, household=household, relation=Relation.HEAD, name=head_name)
    else:
        from linli.people.models import HouseholdMember

        HouseholdMember.objects.create(household=household, person=head, relation=Relation.HEAD)
    return household


def head_of(household: Household) -> Person:
    return household.members.get(relation=Relation.HEAD).person


def voter(world: Any, household: Household, name: str) -> Any:
    """An account for the head of ``household`` (a resident holding the role at its home)."""
    return make_user(name, Role.RESIDENT, household.place, person=head_of(household))


def opened(world: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("place", world.community_a)
    kwargs.setdefault("title", "是否在小区加装电梯")
    vote = vote_create(actor=world.secretary, **kwargs)
    return vote_open(actor=world.secretary, vote=vote)


def lines(vote: Any) -> list[tuple[int | None, int | None, str, int]]:
    return list(
        Elector.objects.filter(vote=vote).order_by("pk").values_list("household_id", "person_id", "owner", "area")
    )


# --- the register ------------------------------------------------------------------------------------------


def test_households_register_is_each_household_with_its_head(world: Any) -> None:
    b = add_household(world, "102")
    add_household(world, "999", tag="b")  # another community: not on the register
    vote = opened(world)
    assert sorted(lines(vote)) == sorted(
        [
            (world.household_a.pk, world.resident_a.pk, "", 0),
            (b.pk, head_of(b).pk, "", 0),
        ]
    )
    assert vote.status == VoteStatus.OPEN and vote.register_heads == 2 and vote.register_area == 0
    assert len(vote.register_fingerprint) == 64
    assert stored_fingerprint(vote) == vote.register_fingerprint


def test_the_register_is_frozen_when_the_vote_opens(world: Any) -> None:
    b = add_household(world, "102", area="80.00")
    vote = opened(world, electorate=Electorate.OWNERS, rule=VoteRule.ART278_ORDINARY)
    before, fingerprint = lines(vote), vote.register_fingerprint
    # the households and their people change while the vote runs
    add_household(world, "103", area="120.50")
    Household.objects.filter(pk=b.pk).update(floor_area=Decimal("99.00"), tenure=Tenure.TENANT)
    person_create(actor=SYSTEM, place=b.place, household=b, relation=Relation.SPOUSE, name="新成员")
    vote.refresh_from_db()
    assert lines(vote) == before
    assert vote.register_fingerprint == fingerprint == stored_fingerprint(vote)
    assert vote.register_area == 8000
    # the rows themselves refuse to change
    from django.db import ProgrammingError, transaction

    with pytest.raises(ProgrammingError), transaction.atomic():
        Elector.objects.filter(vote=vote).update(area=1)
    # the same register drawn again gives the same fingerprint; another one a different one
    rows = list(Elector.objects.filter(vote=vote).values_list("pk", "owner", "area"))
    assert register_fingerprint(vote.pk, reversed(rows)) == fingerprint
    assert register_fingerprint(vote.pk, [(rows[0][0], rows[0][1], rows[0][2] + 1)]) != fingerprint


def test_persons_register_is_the_adult_members_once(world: Any) -> None:
    b = add_household(world, "102")
    child = person_create(
        actor=SYSTEM, place=b.place, household=b, relation=Relation.CHILD, name="小明", birth_date=dt.date.today()
    )
    grown = person_create(
        actor=SYSTEM, place=b.place, household=b, relation=Relation.CHILD, name="大明", birth_date=dt.date(1990, 1, 1)
    )
    vote = opened(world, electorate=Electorate.PERSONS)
    people = {p for _h, p, _o, _a in lines(vote)}
    assert people == {world.resident_a.pk, head_of(b).pk, grown.pk}
    assert child.pk not in people
    assert all(h is None for h, _p, _o, _a in lines(vote))


def test_representatives_are_the_carers_or_those_named(world: Any) -> None:
    vote = opened(world, electorate=Electorate.REPRESENTATIVES)
    assert {p for _h, p, _o, _a in lines(vote)} == {
        world.users["building_leader"].person.pk,
        world.users["central_household"].person.pk,
    }
    named = vote_create(actor=world.secretary, place=world.community_a, title="代表表决", electorate="representatives")
    vote_open(actor=world.secretary, vote=named, representatives=[world.resident_a])
    assert [p for _h, p, _o, _a in lines(named)] == [world.resident_a.pk]
    outsider = vote_create(
        actor=world.secretary, place=world.community_a, title="代表表决", electorate="representatives"
    )
    with pytest.raises(ValidationError):
        vote_open(actor=world.secretary, vote=outsider, representatives=[world.resident_b])


def test_owners_register_counts_an_owner_of_several_units_once_by_head(world: Any) -> None:
    first = add_household(world, "102", area="80.25")
    owner = head_of(first)
    second = add_household(world, "103", area="60.00", head=owner)
    other = add_household(world, "104", area="100.00", head_name="赵业主")
    add_household(world, "105", area="70.00", tenure=Tenure.TENANT)  # a tenant: not an owner
    add_household(world, "106", area=None)  # no floor area on record
    vote = opened(world, electorate=Electorate.OWNERS, rule=VoteRule.ART278_SPECIAL)
    # the lines are written in a random order, and the owners' keys drawn in it
    found = {household: (person, key, area) for household, person, key, area in lines(vote)}
    assert {h: (p, a) for h, (p, _key, a) in found.items()} == {
        first.pk: (owner.pk, 8025),
        second.pk: (owner.pk, 6000),
        other.pk: (head_of(other).pk, 10000),
    }
    assert found[first.pk][1] == found[second.pk][1] != found[other.pk][1]
    assert {key for _p, key, _a in found.values()} == {"O1", "O2"}
    assert vote.register_heads == 2 and vote.register_area == 24025


def test_what_cannot_be_put_to_a_vote(world: Any) -> None:
    with pytest.raises(ValidationError) as secret_owners:
        vote_create(actor=world.secretary, place=world.community_a, title="x", electorate="owners", secret=True)
    assert "面积" in str(secret_owners.value)
    with pytest.raises(ValidationError):
        vote_create(actor=world.secretary, place=world.community_a, title="x", rule="art278_ordinary")
    with pytest.raises(ValidationError):
        vote_create(actor=world.secretary, place=world.community_a, title="x", options_kind="one_of", options=["甲"])
    with pytest.raises(PermissionDenied):
        vote_create(actor=world.grid_worker, place=world.community_a, title="x")
    with pytest.raises(PermissionDenied):
        vote_create(actor=world.secretary, place=world.community_b, title="x")
    now = timezone.now()
    elsewhere = Meeting.objects.create(
        place=world.community_b,
        kind="council",
        title="B",
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        venue="B",
    )
    with pytest.raises(ValidationError):
        vote_create(actor=world.secretary, place=world.community_a, title="x", meeting=elsewhere)
    empty = vote_create(actor=world.secretary, place=world.community_a, title="x", electorate="owners")
    with pytest.raises(ValidationError):
        vote_open(actor=world.secretary, vote=empty)  # no owned unit with an area


# --- casting -----------------------------------------------------------------------------------------------


def test_a_household_member_casts_the_households_vote_once(world: Any) -> None:
    b = add_household(world, "102")
    spouse = person_create(actor=SYSTEM, place=b.place, household=b, relation=Relation.SPOUSE, name="配偶")
    spouse_account = make_user("spouse", Role.RESIDENT, b.place, person=spouse)
    head_account = voter(world, b, "head102")
    vote = opened(world)
    vote_cast(actor=spouse_account, vote=vote, choices=["yes"])
    with pytest.raises(Conflict) as again:
        vote_cast(actor=head_account, vote=vote, choices=["no"])
    assert "网上投票" in str(again.value)
    assert Participation.objects.filter(vote=vote).count() == 1
    with pytest.raises(PermissionDenied):
        vote_cast(actor=world.grid_worker, vote=vote, choices=["yes"])  # not on the register


def test_choices_are_checked_against_the_options(world: Any) -> None:
    vote = opened(world, options_kind=OptionsKind.SEVERAL_OF, options=["健身器材", "儿童滑梯", "凉亭"], max_choices=2)
    resident = world.users["resident"]
    for bad in ([], ["9"], ["1", "2", "3"], ["yes"]):
        with pytest.raises(ValidationError):
            vote_cast(actor=resident, vote=vote, choices=bad)
    vote_cast(actor=resident, vote=vote, choices=["3", "1", "1"])
    assert list(Ballot.objects.get(vote=vote).choices) == ["1", "3"]


def test_online_then_paper_counts_once(world: Any) -> None:
    vote = opened(world)
    elector = Elector.objects.get(vote=vote, household=world.household_a)
    vote_cast(actor=world.users["resident"], vote=vote, choices=["yes"])
    paper_key(actor=world.grid_worker, vote=vote, sheet="P1", elector=elector.pk, choices=["no"])
    second = paper_key(actor=world.secretary, vote=vote, sheet="P1", elector=elector.pk, choices=["no"])
    assert second.status == PaperStatus.REFUSED and "网上投票" in second.note
    assert Participation.objects.filter(vote=vote).count() == 1
    assert [list(c) for c in Ballot.objects.filter(vote=vote).values_list("choices", flat=True)] == [["yes"]]


def test_paper_keyed_twice(world: Any) -> None:
    b = add_household(world, "102")
    c = add_household(world, "103")
    vote = opened(world)
    ea, eb, ec = Elector.objects.filter(vote=vote).order_by("pk")
    # alike: counted once
    first = paper_key(actor=world.grid_worker, vote=vote, sheet="001", elector=ea.pk, choices=["yes"])
    assert first.status == PaperStatus.KEYED_ONCE and not Participation.objects.filter(vote=vote).exists()
    with pytest.raises(Conflict):  # the same account cannot key the second time
        paper_key(actor=world.grid_worker, vote=vote, sheet="001", elector=ea.pk, choices=["yes"])
    paper_key(actor=world.secretary, vote=vote, sheet="001", elector=ea.pk, choices=["yes"])
    assert set(PaperEntry.objects.filter(sheet="001").values_list("status", flat=True)) == {PaperStatus.COUNTED}
    assert Participation.objects.get(vote=vote).channel == Channel.PAPER
    with pytest.raises(Conflict):
        paper_key(actor=world.community_staff, vote=vote, sheet="001", elector=ea.pk, choices=["yes"])
    # different: a mismatch, nothing counted until a re-keying settles it
    paper_key(actor=world.grid_worker, vote=vote, sheet="002", elector=eb.pk, choices=["yes"])
    paper_key(actor=world.secretary, vote=vote, sheet="002", elector=eb.pk, choices=["no"])
    assert set(PaperEntry.objects.filter(sheet="002").values_list("status", flat=True)) == {PaperStatus.MISMATCH}
    assert Participation.objects.filter(vote=vote).count() == 1
    with pytest.raises(Conflict):  # closing waits for the mismatch
        vote_close(actor=world.secretary, vote=vote)
    with pytest.raises(ValidationError):  # agrees with neither keying
        paper_key(actor=world.community_staff, vote=vote, sheet="002", elector=eb.pk, choices=["abstain"])
    with pytest.raises(Conflict):  # agrees with the grid worker's, so it must come from someone else
        paper_key(actor=world.grid_worker, vote=vote, sheet="002", elector=eb.pk, choices=["yes"])
    paper_key(actor=world.community_staff, vote=vote, sheet="002", elector=eb.pk, choices=["yes"])
    entries = PaperEntry.objects.filter(sheet="002").order_by("round")
    assert [e.status for e in entries] == [PaperStatus.COUNTED] * 2
    assert [list(e.choices) for e in entries] == [["yes"], ["yes"]]
    assert Ballot.objects.get(participation__elector=eb).choices == ["yes"]
    # a sheet without its elector's number is refused on a named vote
    with pytest.raises(ValidationError):
        paper_key(actor=world.grid_worker, vote=vote, sheet="003", choices=["yes"])
    assert ec and b and c


def test_owner_with_several_units_votes_once_for_all(world: Any) -> None:
    first = add_household(world, "102", area="80.00")
    owner = head_of(first)
    second = add_household(world, "103", area="60.00", head=owner)
    add_household(world, "104", area="100.00")
    account = make_user("owner", Role.RESIDENT, first.place, person=owner)
    vote = opened(world, electorate=Electorate.OWNERS, rule=VoteRule.ART278_ORDINARY)
    vote_cast(actor=account, vote=vote, choices=["yes"])
    assert set(Participation.objects.filter(vote=vote).values_list("elector__household_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    with pytest.raises(Conflict):  # the other unit on paper: already counted with the first
        unit = Elector.objects.get(vote=vote, household=second)
        vote_enter(
            actor=world.grid_worker,
            vote=vote,
            elector=unit,
            choices=["no"],
            channel=Channel.DOOR,
            collector=world.users["building_leader"].person,
        )
    so_far = participation_so_far(vote)
    assert so_far is not None
    assert so_far["heads"]["part"] == 1 and so_far["heads"]["whole"] == 2
    assert so_far["area"]["part"] == 14000 and so_far["area"]["whole"] == 24000


def test_channels_need_what_makes_them_valid(world: Any) -> None:
    b = add_household(world, "102")
    now = timezone.now()
    meeting = Meeting.objects.create(
        place=world.community_a,
        kind="council",
        title="议事会",
        starts_at=now,
        ends_at=now + dt.timedelta(hours=2),
        venue="活动室",
    )
    vote = opened(world, meeting=meeting)
    # the register's lines are in a random order: the resident's household's, and the other
    ea = Elector.objects.get(vote=vote, household=world.household_a)
    eb = Elector.objects.filter(vote=vote).exclude(pk=ea.pk).get()
    resident = world.users["resident"]
    with pytest.raises(ValidationError):  # not checked in
        vote_cast(actor=resident, vote=vote, choices=["yes"], channel=Channel.MEETING)
    Attendance.objects.create(meeting=meeting, person=world.resident_a, method="qr", at=now)
    vote_cast(actor=resident, vote=vote, choices=["yes"], channel=Channel.MEETING)
    with pytest.raises(ValidationError):  # door to door needs the collector
        vote_enter(actor=world.grid_worker, vote=vote, elector=eb, choices=["no"], channel=Channel.DOOR)
    with pytest.raises(ValidationError):  # a proxy needs the written authorisation first
        vote_enter(actor=world.grid_worker, vote=vote, elector=eb, choices=["no"], channel=Channel.PROXY)
    holder = world.users["volunteer"].person
    proxy = proxy_record(
        actor=world.grid_worker, vote=vote, elector=eb, holder=holder, scan=PhotoUpload("w.png", png_bytes())
    )
    assert proxy.authorisation.startswith("deliberation/proxies/")
    from django.core.files.storage import default_storage

    assert default_storage.exists(proxy.authorisation)
    vote_enter(actor=world.grid_worker, vote=vote, elector=eb, choices=["no"], channel=Channel.PROXY)
    assert Participation.objects.get(vote=vote, elector=eb).proxy == proxy
    with pytest.raises(PermissionDenied):  # a resident does not enter others' ballots
        vote_enter(actor=resident, vote=vote, elector=eb, choices=["no"], channel=Channel.DOOR, collector=holder)
    assert ea and b


# --- closing and counting ------------------------------------------------------------------------------------


def test_close_counts_through_the_tally_and_tells_the_other_parts(world: Any) -> None:
    seen: list[Any] = []
    hooks.on_vote_closed(seen.append)
    try:
        houses = [add_household(world, f"1{n:02d}") for n in range(2, 5)]
        vote = opened(world)
        for n, (house, choice) in enumerate(zip(houses, ["yes", "yes", "no"], strict=True)):
            vote_cast(actor=voter(world, house, f"v{n}"), vote=vote, choices=[choice])
        with pytest.raises(PermissionDenied):
            vote_close(actor=world.grid_worker, vote=vote)
        vote_close(actor=world.secretary, vote=vote)
    finally:
        hooks._ON_VOTE_CLOSED.remove(seen.append)
    vote.refresh_from_db()
    assert seen == [vote] and vote.status == VoteStatus.CLOSED
    result = vote.result
    assert result["passed"] is True and result["reason"] == "通过：同意的人数超过参与表决人数的半数"
    assert result["participation_heads"] == {"part": 3, "whole": 4, "fraction": "3/4"}
    assert [(o["code"], o["heads"]) for o in result["options"]] == [("yes", 2), ("no", 1), ("abstain", 0)]
    assert result["leading"] == ["yes"] and result["by_channel"] == {"online": 3}
    with pytest.raises(Conflict):
        vote_cast(actor=world.users["resident"], vote=vote, choices=["yes"])


def test_option_votes_report_counts_and_the_leading_options(world: Any) -> None:
    houses = [add_household(world, f"1{n:02d}") for n in range(2, 5)]
    vote = opened(world, options_kind=OptionsKind.ONE_OF, options=["甲公司", "乙公司", "丙公司"])
    for n, (house, choice) in enumerate(zip(houses, ["1", "2", "1"], strict=True)):
        vote_cast(actor=voter(world, house, f"o{n}"), vote=vote, choices=[choice])
    vote_cast(actor=world.users["resident"], vote=vote, choices=["2"])
    vote = vote_close(actor=world.secretary, vote=vote)
    result = vote.result
    assert result["passed"] is None and result["leading"] == ["1", "2"]
    assert [(o["label"], o["heads"], o["passed"]) for o in result["options"]] == [
        ("甲公司", 2, False),
        ("乙公司", 2, False),
        ("丙公司", 0, False),
    ]


def test_the_sweep_closes_votes_past_their_time(world: Any) -> None:
    soon = timezone.now() + dt.timedelta(hours=1)
    vote = opened(world, closes_at=soon)
    assert close_due_votes(now=soon - dt.timedelta(minutes=1)) == 0
    with pytest.raises(Conflict):
        vote_cast(actor=world.users["resident"], vote=vote, choices=["yes"], now=soon + dt.timedelta(minutes=1))
    assert close_due_votes(now=soon + dt.timedelta(minutes=1)) == 1
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CLOSED and vote.result["reason"] == "没有人参与表决"


def test_the_sweep_is_a_periodic_task_that_schedules_its_next_run(world: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from linli.core.registry import periodic_tasks
    from linli.deliberation.tasks.votes import sweep_due_votes

    assert sweep_due_votes in periodic_tasks()
    vote = opened(world, closes_at=timezone.now() + dt.timedelta(hours=1))
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    assert sweep_due_votes.call() == {"closed": 1}
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.CLOSED
    later = DBTaskResult.objects.get(task_path=sweep_due_votes.module_path, status="READY")
    assert later.run_after is not None and later.run_after > timezone.now()


def test_art278_through_the_service_equals_the_command_on_the_published_json(
    world: Any, tmp_path: Any, client: Any
) -> None:
    """Pingan's owners vote on using the maintenance fund (a special matter): eight units of
    seven owners, one owning two; the published register and ballots recount to the same."""
    areas = ["89.50", "120.00", "75.25", "101.10", "66.00", "93.75", "110.40"]
    houses = [add_household(world, f"2{n:02d}", area=a, head_name=f"业主{n}") for n, a in enumerate(areas)]
    twin = add_household(world, "299", area="58.60", head=head_of(houses[0]))
    vote = opened(world, electorate=Electorate.OWNERS, rule=VoteRule.ART278_SPECIAL, title="使用维修资金更换电梯")
    choices = ["yes", "yes", "no", "yes", "yes", "abstain"]  # the seventh owner does not vote
    for n, (house, choice) in enumerate(zip(houses, choices, strict=False)):
        account = make_user(f"own{n}", Role.RESIDENT, house.place, person=head_of(house))
        vote_cast(actor=account, vote=vote, choices=[choice])
    vote = vote_close(actor=world.secretary, vote=vote)
    sign_in(client, world.users["resident"])  # any reader of the community may download it
    download = client.get(reverse("deliberation:vote_register_json", args=[vote.pk]))
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    document = json.loads(download.content)
    assert document == json.loads(json.dumps(tally_document(vote)))
    assert len(document["electors"]) == 8 and len(document["ballots"]) == 7  # the twin unit voted with its owner
    owner_of = {e["id"]: e["owner"] for e in document["electors"]}
    first_unit, twin_unit = (str(Elector.objects.get(vote=vote, household=h).pk) for h in (houses[0], twin))
    assert owner_of[twin_unit] == owner_of[first_unit]  # one owner's two units, one key
    text = download.content.decode("utf-8")
    assert "业主" not in text and "张建国" not in text
    path = tmp_path / "vote.json"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("deliberation", "tally", str(path), stdout=out)
    recount = json.loads(out.getvalue())
    assert recount == vote.result["tally"]
    assert recount["passed"] is False and "四分之三" in recount["reason"]
    # the fingerprint is recomputable from the published register
    rows = [(int(e["id"]), e["owner"], int(Decimal(e["area"]) * 100)) for e in document["electors"]]
    assert register_fingerprint(vote.pk, rows) == document["register_fingerprint"] == vote.register_fingerprint


def test_roles_granted_after_opening_change_nothing(world: Any) -> None:
    vote = opened(world, electorate=Electorate.REPRESENTATIVES)
    before = lines(vote)
    leader = make_user("new_leader", Role.BUILDING_LEADER, world.building_a)
    membership_grant(actor=SYSTEM, person=leader.person, place=world.grid_a, role=Role.CENTRAL_HOUSEHOLD)
    assert lines(vote) == before


# --- cancelling -------------------------------------------------------------------------------------------


def test_an_open_vote_is_cancelled_with_its_reason_and_its_ballots_count_for_nothing(world: Any) -> None:
    from linli.core.models import AuditEntry

    seen: dict[str, list[Any]] = {"closed": [], "cancelled": []}
    hooks.on_vote_closed(seen["closed"].append)
    hooks.on_vote_cancelled(seen["cancelled"].append)
    try:
        house = add_household(world, "102")
        vote = opened(world, closes_at=timezone.now() + dt.timedelta(days=1))
        vote_cast(actor=voter(world, house, "v1"), vote=vote, choices=["yes"])
        with pytest.raises(PermissionDenied):
            vote_cancel(actor=world.grid_worker, vote=vote, reason="写错了")
        with pytest.raises(ValidationError, match="请填写取消原因"):
            vote_cancel(actor=world.secretary, vote=vote, reason="   ")
        with pytest.raises(ValidationError, match="最多200个字"):
            vote_cancel(actor=world.secretary, vote=vote, reason="长" * 201)
        at = timezone.now()
        vote_cancel(actor=world.secretary, vote=vote, reason="  表决事项表述有误，\n重新发起 ", now=at)
    finally:
        hooks._ON_VOTE_CLOSED.remove(seen["closed"].append)
        hooks._ON_VOTE_CANCELLED.remove(seen["cancelled"].append)
    vote.refresh_from_db()
    assert (vote.status, vote.result, vote.cancelled_at) == (VoteStatus.CANCELLED, None, at)
    assert vote.cancel_reason == "表决事项表述有误， 重新发起"
    assert seen == {"closed": [], "cancelled": [vote]}
    entry = AuditEntry.objects.filter(target_id=str(vote.pk), field="status").order_by("pk").last()
    assert entry is not None and entry.reason == "表决事项表述有误， 重新发起"
    assert entry.changes["status"] == VoteStatus.CANCELLED and entry.changes["was"] == VoteStatus.OPEN
    # nothing more can happen to it: no ballot, no count, no second cancellation, not the sweep
    with pytest.raises(Conflict):
        vote_cast(actor=world.users["resident"], vote=vote, choices=["yes"])
    with pytest.raises(Conflict):
        vote_close(actor=world.secretary, vote=vote)
    with pytest.raises(Conflict):
        vote_cancel(actor=world.secretary, vote=vote, reason="再取消一次")
    assert close_due_votes(now=timezone.now() + dt.timedelta(days=2)) == 0
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CANCELLED and vote.result is None
    assert Participation.objects.filter(vote=vote).count() == 1  # kept as written, counted for nothing


def test_a_draft_is_cancelled_and_a_closed_vote_is_not(world: Any) -> None:
    draft = vote_create(actor=world.secretary, place=world.community_a, title="草拟的表决")
    vote_cancel(actor=world.secretary, vote=draft, reason="不再需要")
    draft.refresh_from_db()
    assert draft.status == VoteStatus.CANCELLED and not Elector.objects.filter(vote=draft).exists()
    with pytest.raises(Conflict):
        vote_open(actor=world.secretary, vote=draft)
    closed = opened(world)
    vote_close(actor=world.secretary, vote=closed)
    with pytest.raises(Conflict, match="只有草拟中或投票中的表决可以取消"):
        vote_cancel(actor=world.secretary, vote=closed, reason="结果不满意")
    closed.refresh_from_db()
    assert closed.status == VoteStatus.CLOSED and closed.result is not None


def test_a_decision_put_to_a_cancelled_vote_stays_open_with_a_note_and_may_be_put_again(world: Any) -> None:
    from linli.deliberation.models import Decision, DecisionNote, DecisionStatus
    from linli.deliberation.services.meetings import decision_create, decision_spawn_vote
    from linli.deliberation.tests.meetings_world import plan

    meeting = plan(world)
    decision = decision_create(
        actor=world.secretary,
        meeting=meeting,
        text="疏通1栋下水道主管",
        owner=world.users["resident"].person,
        due=timezone.localdate() + dt.timedelta(days=30),
    )
    vote = decision_spawn_vote(actor=world.secretary, decision=decision)
    vote_open(actor=world.secretary, vote=vote)
    vote_cancel(actor=world.secretary, vote=vote, reason="会上没有说清费用")
    decision = Decision.objects.get(pk=decision.pk)
    assert decision.status == DecisionStatus.OPEN and decision.vote_id == vote.pk
    assert decision.progress == "表决已取消（会上没有说清费用），决定仍待落实，可重新提交表决"
    assert list(DecisionNote.objects.filter(decision=decision).values_list("text", flat=True)) == [decision.progress]
    again = decision_spawn_vote(actor=world.secretary, decision=decision)
    decision.refresh_from_db()
    assert decision.vote_id == again.pk and again.pk != vote.pk
    with pytest.raises(ValidationError, match="该决定已提交表决"):
        decision_spawn_vote(actor=world.secretary, decision=decision)


def test_a_conventions_version_put_to_a_cancelled_vote_goes_back_and_is_put_again(world: Any) -> None:
    from django.db import DatabaseError, transaction

    from linli.deliberation.models import ConventionVersion, VersionStatus
    from linli.deliberation.services.conventions import version_put_to_vote
    from linli.deliberation.tests.test_conventions import first_version, make_convention

    version = first_version(make_convention(world))
    vote = version_put_to_vote(actor=world.secretary, version=version)
    # the database keeps a version being voted on from going back while its vote stands
    with pytest.raises(DatabaseError), transaction.atomic():
        ConventionVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DRAFT)
    vote_cancel(actor=world.secretary, vote=vote, reason="条文还要再改")
    version.refresh_from_db()
    assert (version.status, version.vote_id) == (VersionStatus.DRAFT, vote.pk)
    again = version_put_to_vote(actor=world.secretary, version=version)
    version.refresh_from_db()
    assert (version.status, version.vote_id) == (VersionStatus.VOTING, again.pk) and again.pk != vote.pk
