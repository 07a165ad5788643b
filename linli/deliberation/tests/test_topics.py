"""Topics (议题): a proposal reaching its community's threshold (exactly, once, under a race),
support once per person, an opinion heard made a topic, the recurring-needs sweep (每月一题),
the secretary's accept and decline, topic_mark, and who reads which topics."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from linli.accounts.sms import read_outbox
from linli.core.access import SYSTEM, Role
from linli.core.errors import Conflict
from linli.core.models import Notification
from linli.deliberation.models import CommunityRules, Topic, TopicNeed, TopicSource, TopicStatus, TopicSupport
from linli.deliberation.selectors.topics import topic_list
from linli.deliberation.services.topics import (
    offer_recurring_topics,
    rules_set,
    topic_accept,
    topic_decline,
    topic_from_opinion,
    topic_mark,
    topic_propose,
    topic_support,
)
from linli.needs.models import Need
from linli.needs.services import need_create
from linli.needs.tests.conftest import make_categories
from linli.places.models import PlaceKind
from linli.places.services import place_create
from linli.testing import deliver_notifications, make_user

NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def outbox(settings: Any, tmp_path: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


def neighbours(world: Any, n: int, tag: str = "a") -> list[Any]:
    """``n`` residents of community ``tag``'s household, each with an account."""
    return [make_user(f"n{tag}{i}", Role.RESIDENT, world.places[f"household_place_{tag}"]) for i in range(n)]


def proposal(world: Any, title: str = "小区东门加装充电桩", place: Any = None) -> Topic:
    return topic_propose(actor=world.users["resident"], place=place or world.community_a, title=title)


def set_rules(world: Any, *, threshold: int = 10, count: int = 3, days: int = 30) -> CommunityRules:
    """Community A's rules, set by its secretary."""
    return rules_set(
        actor=world.users["secretary"],
        community=world.community_a,
        support_threshold=threshold,
        recurring_count=count,
        recurring_days=days,
    )


def at_once(*calls: Any) -> list[Any]:
    """Run the calls in threads released together (each with its own connection); their
    results, in the order they finished. Fails on any error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def secretary_phone(world: Any) -> str:
    person = world.users["secretary"].person
    person.phone = "+8613900000001"
    person.save(update_fields=["phone"])
    return person.phone


# --- proposals and supports -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_proposal_is_listed_exactly_at_the_threshold_and_the_secretary_told(world: Any, outbox: None) -> None:
    phone = secretary_phone(world)
    set_rules(world, threshold=3)
    topic = proposal(world)
    assert (topic.status, topic.source, topic.proposer_id) == (
        TopicStatus.GATHERING,
        TopicSource.PROPOSAL,
        world.resident_a.pk,
    )
    people = neighbours(world, 4)
    for user in people[:2]:
        topic = topic_support(actor=user, topic=topic)
    assert (topic.supports, topic.status) == (2, TopicStatus.GATHERING)
    assert not Notification.objects.filter(kind="deliberation.topic_listed").exists()
    topic = topic_support(actor=people[2], topic=topic)
    assert (topic.supports, topic.status) == (3, TopicStatus.LISTED)
    topic = topic_support(actor=people[3], topic=topic)  # supports go on; told once
    assert topic.supports == 4
    assert Notification.objects.filter(kind="deliberation.topic_listed").count() == 1
    deliver_notifications()
    sent = [m["body"] for m in read_outbox() if m["to"] == phone]
    assert sent == ["【邻里】居民提议“小区东门加装充电桩”已有3人附议，已列入待议议题，请查看。"]


@pytest.mark.django_db
def test_the_default_threshold_is_ten(world: Any) -> None:
    assert not CommunityRules.objects.exists()
    topic = proposal(world)
    people = neighbours(world, 10)
    for user in people[:9]:
        topic = topic_support(actor=user, topic=topic)
    assert topic.status == TopicStatus.GATHERING
    assert topic_support(actor=people[9], topic=topic).status == TopicStatus.LISTED


@pytest.mark.django_db
def test_support_twice_or_ones_own_or_from_another_community_is_refused(world: Any) -> None:
    topic = proposal(world)
    (neighbour,) = neighbours(world, 1)
    topic_support(actor=neighbour, topic=topic)
    with pytest.raises(ValidationError, match="已经附议"):
        topic_support(actor=neighbour, topic=topic)
    with pytest.raises(ValidationError, match="自己的提议"):
        topic_support(actor=world.users["resident"], topic=topic)
    (outsider,) = neighbours(world, 1, tag="b")
    with pytest.raises(PermissionDenied):
        topic_support(actor=outsider, topic=topic)
    with pytest.raises(PermissionDenied):  # reads the street's topics, takes no part
        topic_support(actor=world.users["street_official"], topic=topic)
    topic.refresh_from_db()
    assert topic.supports == 1 == TopicSupport.objects.filter(topic=topic).count()


@pytest.mark.django_db
def test_a_resident_proposes_only_in_their_own_community(world: Any) -> None:
    for place in (world.grid_a, world.building_a):
        assert topic_propose(actor=world.users["resident"], place=place, title="楼道灯坏了议一议").place == place
    with pytest.raises(PermissionDenied):
        topic_propose(actor=world.users["resident"], place=world.community_b, title="别的社区的事")
    with pytest.raises(ValidationError):
        topic_propose(actor=world.users["resident"], place=world.street, title="街道的事情")
    with pytest.raises(ValidationError, match="至少"):
        topic_propose(actor=world.users["resident"], place=world.community_a, title="短")


@pytest.mark.django_db
def test_staff_proposals_go_on_the_list_at_once(world: Any) -> None:
    topic = topic_propose(actor=world.users["secretary"], place=world.community_a, title="社区活动室开放时间")
    assert (topic.source, topic.status) == (TopicSource.STAFF, TopicStatus.LISTED)


@pytest.mark.django_db(transaction=True)
def test_concurrent_supports_are_all_counted_and_cross_the_threshold_once(world: Any) -> None:
    set_rules(world, threshold=4)
    topic = proposal(world)
    people = neighbours(world, 6)
    at_once(*(lambda u=u: topic_support(actor=u, topic=Topic.objects.get(pk=topic.pk)) for u in people))
    topic.refresh_from_db()
    assert topic.supports == 6 == TopicSupport.objects.filter(topic=topic).count()
    assert topic.status == TopicStatus.LISTED
    assert Notification.objects.filter(kind="deliberation.topic_listed").count() == 1


# --- opinions heard -----------------------------------------------------------------------------------


def opinion_marked(world: Any, text: str = "希望小区加装电梯，老人上下楼太难") -> Any:
    from linli.visits.services import opinion_decide, visit_log

    visit = visit_log(
        actor=world.users["grid_worker"], household=world.household_a, kind="knock", heard=text, tags=["opinion_heard"]
    )
    return opinion_decide(actor=world.users["secretary"], opinion=visit.opinion, status="topic")


@pytest.mark.django_db
def test_an_opinion_marked_as_a_topic_becomes_one_once(world: Any) -> None:
    opinion = opinion_marked(world)
    with pytest.raises(PermissionDenied):
        topic_from_opinion(actor=world.users["grid_worker"], opinion=opinion)
    topic = topic_from_opinion(actor=world.users["secretary"], opinion=opinion)
    assert (topic.source, topic.status, topic.opinion_id, topic.place) == (
        TopicSource.OPINION,
        TopicStatus.LISTED,
        opinion.pk,
        world.community_a,
    )
    assert topic.title.startswith("希望小区加装电梯")
    with pytest.raises(Conflict):
        topic_from_opinion(actor=world.users["secretary"], opinion=opinion)


@pytest.mark.django_db
def test_an_opinion_not_marked_as_a_topic_is_refused(world: Any) -> None:
    from linli.visits.services import opinion_decide

    opinion = opinion_marked(world)
    opinion_decide(actor=world.users["secretary"], opinion=opinion, status="closed")
    with pytest.raises(ValidationError):
        topic_from_opinion(actor=world.users["secretary"], opinion=opinion)


# --- recurring needs (每月一题) ------------------------------------------------------------------------


@pytest.fixture
def rw(world: Any) -> Any:
    world.categories = make_categories()
    world.building_2 = place_create(
        actor=SYSTEM, parent=world.grid_a, code="t-a-g1-b2", name="2栋", kind=PlaceKind.BUILDING
    )
    world.grid_2 = place_create(
        actor=SYSTEM, parent=world.community_a, code="t-a-g2", name="第二网格", kind=PlaceKind.GRID
    )
    world.building_3 = place_create(
        actor=SYSTEM, parent=world.grid_2, code="t-a-g2-b3", name="3栋", kind=PlaceKind.BUILDING
    )
    return world


def needs_at(world: Any, place: Any, n: int, category: str = "water", days_ago: float = 1) -> list[Need]:
    return [
        need_create(
            actor=SYSTEM,
            text=f"下水道堵了第{i}次",
            place=place,
            category_code=category,
            now=NOW - dt.timedelta(days=days_ago),
        )
        for i in range(n)
    ]


def offered() -> list[Topic]:
    return list(Topic.objects.filter(source=TopicSource.RECURRING).order_by("id"))


@pytest.mark.django_db
def test_one_need_short_of_n_offers_nothing(rw: Any) -> None:
    needs_at(rw, rw.building_a, 2)
    assert offer_recurring_topics(now=NOW) == 0
    assert not offered()


@pytest.mark.django_db
def test_n_needs_in_one_building_offer_a_topic_at_the_building_once(rw: Any, outbox: None) -> None:
    phone = secretary_phone(rw)
    needs = needs_at(rw, rw.building_a, 3)
    assert offer_recurring_topics(now=NOW) == 1
    (topic,) = offered()
    assert (topic.place, topic.status, topic.category.code) == (rw.building_a, TopicStatus.OFFERED, "water")
    assert set(TopicNeed.objects.filter(topic=topic).values_list("need_id", flat=True)) == {n.pk for n in needs}
    assert offer_recurring_topics(now=NOW) == 0  # idempotent
    assert offer_recurring_topics(now=NOW + dt.timedelta(hours=6)) == 0
    assert len(offered()) == 1
    deliver_notifications()
    assert [m["body"] for m in read_outbox() if m["to"] == phone] == [
        "【邻里】1栋近30天有3件“供水”诉求，已生成议题，请确认是否列入。"
    ]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_offer_once(rw: Any) -> None:
    needs_at(rw, rw.building_a, 3)
    counts = at_once(lambda: offer_recurring_topics(now=NOW), lambda: offer_recurring_topics(now=NOW))
    assert sorted(counts) == [0, 1]
    assert len(offered()) == 1 and TopicNeed.objects.count() == 3


@pytest.mark.django_db
def test_the_offer_is_written_in_the_sites_language_whoever_sweeps(rw: Any, english: None) -> None:
    needs_at(rw, rw.building_a, 3)
    offer_recurring_topics(now=NOW)
    assert offered()[0].title == "1栋3件“供水”诉求"


@pytest.mark.django_db
def test_the_periodic_sweep_offers_and_schedules_its_next_run(rw: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from linli.deliberation.tasks.topics import sweep_recurring_needs

    for _ in range(3):
        need_create(actor=SYSTEM, text="下水道堵了", place=rw.building_a, category_code="water")  # now
    assert sweep_recurring_needs.call() == {"offered": 1}
    assert DBTaskResult.objects.filter(task_path=sweep_recurring_needs.module_path, status="READY").count() == 1
    assert sweep_recurring_needs.call() == {"offered": 0}
    assert DBTaskResult.objects.filter(task_path=sweep_recurring_needs.module_path, status="READY").count() == 1


@pytest.mark.django_db
def test_needs_spread_over_two_buildings_of_a_grid_offer_at_the_grid(rw: Any) -> None:
    needs = needs_at(rw, rw.building_a, 2) + needs_at(rw, rw.building_2, 1)
    assert offer_recurring_topics(now=NOW) == 1
    (topic,) = offered()
    assert topic.place == rw.grid_a
    assert TopicNeed.objects.filter(topic=topic).count() == len(needs)


@pytest.mark.django_db
def test_needs_spread_over_two_grids_offer_at_the_community(rw: Any) -> None:
    needs_at(rw, rw.building_a, 2)
    needs_at(rw, rw.building_3, 1)
    assert offer_recurring_topics(now=NOW) == 1
    assert offered()[0].place == rw.community_a


@pytest.mark.django_db
def test_the_smallest_place_wins_and_its_needs_are_not_counted_again(rw: Any) -> None:
    needs_at(rw, rw.building_a, 3)
    needs_at(rw, rw.building_2, 2)  # with the building's three the grid has five; these two alone are short
    assert offer_recurring_topics(now=NOW) == 1
    assert offered()[0].place == rw.building_a


@pytest.mark.django_db
def test_needs_outside_m_days_are_ignored(rw: Any) -> None:
    needs_at(rw, rw.building_a, 2)
    needs_at(rw, rw.building_a, 1, days_ago=31)
    assert offer_recurring_topics(now=NOW) == 0
    set_rules(rw, days=40)
    assert offer_recurring_topics(now=NOW) == 1


@pytest.mark.django_db
def test_another_category_is_counted_apart(rw: Any) -> None:
    needs_at(rw, rw.building_a, 2, category="water")
    needs_at(rw, rw.building_a, 2, category="lighting")
    assert offer_recurring_topics(now=NOW) == 0
    needs_at(rw, rw.building_a, 1, category="lighting")
    assert offer_recurring_topics(now=NOW) == 1
    assert offered()[0].category.code == "lighting"


@pytest.mark.django_db
def test_n_is_per_community(rw: Any) -> None:
    set_rules(rw, count=2)
    needs_at(rw, rw.building_a, 2)
    needs_at(rw, rw.building_b, 2)  # community B keeps the default three
    assert offer_recurring_topics(now=NOW) == 1
    assert offered()[0].place == rw.building_a


@pytest.mark.django_db
def test_a_declined_offer_is_not_offered_again(rw: Any) -> None:
    needs_at(rw, rw.building_a, 3)
    offer_recurring_topics(now=NOW)
    topic_decline(actor=rw.users["secretary"], topic=offered()[0], reason="已列入小区改造计划")
    assert offer_recurring_topics(now=NOW) == 0


# --- the secretary -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_secretary_accepts_an_offer(rw: Any) -> None:
    needs_at(rw, rw.building_a, 3)
    offer_recurring_topics(now=NOW)
    (topic,) = offered()
    with pytest.raises(PermissionDenied):
        topic_accept(actor=rw.users["grid_worker"], topic=topic)
    with pytest.raises(PermissionDenied):
        topic_accept(actor=rw.users["secretary_b"], topic=topic)
    assert topic_accept(actor=rw.users["secretary"], topic=topic).status == TopicStatus.LISTED
    with pytest.raises(Conflict):
        topic_accept(actor=rw.users["secretary"], topic=topic)


@pytest.mark.django_db
def test_the_secretary_declines_with_a_reason_and_the_proposer_is_told(world: Any, outbox: None) -> None:
    topic = proposal(world)
    with pytest.raises(ValidationError):
        topic_decline(actor=world.users["secretary"], topic=topic, reason="")
    topic = topic_decline(actor=world.users["secretary"], topic=topic, reason="已纳入明年改造计划")
    assert (topic.status, topic.status_note) == (TopicStatus.DECLINED, "已纳入明年改造计划")
    deliver_notifications()
    assert [m["body"] for m in read_outbox() if m["to"] == "+8613800138000"] == [
        "【邻里】您的提议“小区东门加装充电桩”未列入议题：已纳入明年改造计划"
    ]
    with pytest.raises(ValidationError):  # no more supports
        topic_support(actor=neighbours(world, 1)[0], topic=topic)


@pytest.mark.django_db
def test_rules_are_checked_and_kept_per_community(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        rules_set(
            actor=world.users["grid_worker"],
            community=world.community_a,
            support_threshold=5,
            recurring_count=3,
            recurring_days=30,
        )
    with pytest.raises(ValidationError) as refused:
        set_rules(world, threshold=0, count=1, days=999)
    assert set(refused.value.message_dict) == {"support_threshold", "recurring_count", "recurring_days"}
    row = set_rules(world, threshold=5, count=4, days=14)
    assert (row.support_threshold, row.recurring_count, row.recurring_days) == (5, 4, 14)
    assert not CommunityRules.objects.filter(community=world.community_b).exists()


@pytest.mark.django_db
def test_topic_mark_moves_a_topic_forward_only(world: Any) -> None:
    topic = topic_propose(actor=world.users["secretary"], place=world.community_a, title="社区活动室开放时间")
    assert topic_mark(topic, TopicStatus.SCHEDULED) and topic.status == TopicStatus.SCHEDULED
    assert topic_mark(topic, TopicStatus.DECIDED)
    assert not topic_mark(topic, TopicStatus.SCHEDULED)  # a second agenda does not undo a decision
    topic.refresh_from_db()
    assert topic.status == TopicStatus.DECIDED
    assert topic_mark(topic, TopicStatus.DONE)
    with pytest.raises(ValueError):
        topic_mark(topic, TopicStatus.LISTED)


@pytest.mark.django_db
def test_a_topic_is_done_when_all_its_decisions_are(world: Any) -> None:
    from linli.deliberation.models import Decision, DecisionStatus, Meeting, MeetingKind
    from linli.deliberation.services.topics import topic_mark_settled

    topic = topic_propose(actor=world.users["secretary"], place=world.community_a, title="社区活动室开放时间")
    assert not topic_mark_settled(topic)  # no decision yet
    meeting = Meeting.objects.create(
        place=world.community_a,
        kind=MeetingKind.BENCH,
        title="板凳会",
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(hours=1),
        venue="活动室",
    )
    first, second, dropped = (
        Decision.objects.create(meeting=meeting, topic=topic, text=t, owner=world.resident_a, due=NOW.date())
        for t in ("周末开放", "安排值班", "买新桌椅")
    )
    topic_mark(topic, TopicStatus.DECIDED)
    Decision.objects.filter(pk=dropped.pk).update(status=DecisionStatus.DROPPED)
    Decision.objects.filter(pk=first.pk).update(status=DecisionStatus.DONE)
    assert not topic_mark_settled(topic)
    Decision.objects.filter(pk=second.pk).update(status=DecisionStatus.DONE)
    assert topic_mark_settled(topic)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.DONE


# --- who reads what ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_residents_read_their_own_communitys_topics_and_not_anothers(rw: Any) -> None:
    mine = proposal(rw)
    at_building = topic_propose(actor=rw.users["grid_worker"], place=rw.building_a, title="楼道堆物清理议一议")
    theirs = topic_propose(actor=rw.users["secretary_b"], place=rw.community_b, title="常四社区的议题")
    needs_at(rw, rw.building_a, 3)
    offer_recurring_topics(now=NOW)
    (offer,) = offered()
    (other_resident,) = neighbours(rw, 1)
    (resident_b,) = neighbours(rw, 1, tag="b")
    assert set(topic_list(actor=rw.users["resident"])) == {mine, at_building}
    assert set(topic_list(actor=other_resident)) == {mine, at_building}
    assert set(topic_list(actor=resident_b)) == {theirs}
    # the offer waits for the secretary: read by who runs deliberation there, not by residents
    assert set(topic_list(actor=rw.users["secretary"])) == {mine, at_building, offer}
    assert set(topic_list(actor=rw.users["secretary_b"])) == {theirs}
    assert set(topic_list(actor=rw.users["street_official"])) == {mine, at_building, theirs}
    # a declined proposal stays with its proposer and the secretary
    topic_decline(actor=rw.users["secretary"], topic=mine, reason="重复的议题")
    assert mine in set(topic_list(actor=rw.users["resident"]))
    assert mine not in set(topic_list(actor=other_resident))
