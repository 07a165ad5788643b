"""The test world of meetings: community A's households with a child and a second household
with an account, a meeting of the community planned by its secretary, and helpers shared by
the meetings' tests and their authorisation cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from linli.core.access import SYSTEM, Role
from linli.deliberation.models import Meeting, MeetingKind, Topic, TopicSource, TopicStatus
from linli.deliberation.services import meetings as services
from linli.people.models import Relation
from linli.people.services import household_create, person_create
from linli.testing import make_user

WANG_PHONE = "+8613912345602"


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def add_people(world: Any) -> Any:
    """A child in household A (not invited by place: under 18) and a second household in
    building A with an adult who has an account (``world.users["wang"]``)."""
    if hasattr(world, "wang"):
        return world
    today = timezone.localdate()
    world.child = person_create(
        actor=SYSTEM,
        place=world.household_a.place,
        household=world.household_a,
        relation=Relation.CHILD,
        name="张小明",
        birth_date=today.replace(year=today.year - 10),
    )
    world.households["household_102"] = household_create(
        actor=SYSTEM, building=world.building_a, code="t-a-g1-b1-102", name="1单元102"
    )
    world.wang = person_create(
        actor=SYSTEM,
        place=world.household_102.place,
        household=world.household_102,
        relation=Relation.HEAD,
        name="王芳",
        phone=WANG_PHONE,
        birth_date=dt.date(1975, 3, 1),
    )
    world.users["wang"] = make_user(
        "wang", Role.RESIDENT, world.household_102.place, person=world.wang, phone=WANG_PHONE
    )
    return world


def plan(
    world: Any,
    tag: str = "a",
    *,
    starts_at: dt.datetime | None = None,
    hours: int = 2,
    title: str = "常二社区居民议事会",
    place: Any = None,
    **extra: Any,
) -> Meeting:
    """A bench meeting of community ``tag`` (or of ``place`` in it) planned by its secretary, a
    week from now by default."""
    secretary = world.users["secretary" if tag == "a" else "secretary_b"]
    starts_at = starts_at or timezone.now() + dt.timedelta(days=7)
    return services.meeting_create(
        actor=secretary,
        place=place or world.places[f"community_{tag}"],
        kind=MeetingKind.BENCH,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
        venue="党群服务中心二楼",
        **extra,
    )


def topic(world: Any, tag: str = "a", title: str = "楼下排水管反复堵塞") -> Topic:
    """A topic on the secretary's list (the topics part makes these through its services)."""
    return Topic.objects.create(
        place=world.places[f"community_{tag}"], title=title, source=TopicSource.STAFF, status=TopicStatus.LISTED
    )


PDF = b"%PDF-1.4\n%%EOF\n"


def meetings_of(world: Any) -> dict[str, dict[str, Any]]:
    """In each community: a meeting under way (its minutes published, a file, a decision owned
    by the community's resident, the resident invited), and a meeting to come with a decision
    not published yet; in A also a meeting of building A. Made once per world."""
    if hasattr(world, "meetings_made"):
        made: dict[str, dict[str, Any]] = world.meetings_made
        return made
    made = {}
    now = timezone.now()
    for tag in ("a", "b"):
        secretary = world.users["secretary" if tag == "a" else "secretary_b"]
        resident = world.people[f"resident_{tag}"]
        meeting = plan(world, tag, starts_at=now - dt.timedelta(hours=1), title=f"议事会{tag}")
        services.invite_by_place(actor=secretary, meeting=meeting, place=world.places[f"community_{tag}"])
        services.minutes_save(actor=secretary, meeting=meeting, text="会议记录")
        attachment = services.minutes_attach(actor=secretary, meeting=meeting, name="签到表.pdf", content=PDF)
        services.minutes_publish(actor=secretary, meeting=meeting)
        decision = services.decision_create(
            actor=secretary, meeting=meeting, text="修路灯", owner=resident, due=timezone.localdate()
        )
        coming = plan(world, tag, title=f"下次议事会{tag}")
        services.decision_create(
            actor=secretary,
            meeting=coming,
            text="未公布的决定",
            owner=secretary.person,
            due=timezone.localdate() + dt.timedelta(days=30),
        )
        made[tag] = {"meeting": meeting, "attachment": attachment, "decision": decision, "coming": coming}
    plan(world, "a", place=world.building_a, title="1栋板凳会")
    world.meetings_made = made
    return made


def meetings_at_work(world: Any) -> None:
    """What the site-wide crawl needs to reach every page of meetings: ``meetings_of`` (a
    meeting under way in each community, with the resident invited, so the check-in link
    shows) and a decision overdue for the street's page."""
    meetings_of(world)
    past = plan(world, starts_at=timezone.now() - dt.timedelta(days=30), title="上月议事会")
    services.decision_create(
        actor=world.users["secretary"],
        meeting=past,
        text="修补路面",
        owner=world.people["resident_a"],
        due=timezone.localdate() - dt.timedelta(days=3),
    )
