"""Reads of meetings and decisions, always through the actor's scope (``visible``): what is
out of scope is a 404. Residents read their community's meetings and those they are invited
to, and decisions once the minutes are published; staff read what lies under their places."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, Role, get_or_404, scope_for
from linli.core.text import normalize
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Decision,
    DecisionStatus,
    Invitation,
    Meeting,
    MeetingStatus,
    MinutesAttachment,
    Rsvp,
    Topic,
    TopicStatus,
)
from linli.people.models import Department, Household, Membership, Person
from linli.people.selectors import household_list, person_list
from linli.places.models import Place, PlaceKind, ancestor_paths, path_len
from linli.places.selectors import access_place

COMMUNITY_PATH_LEN = path_len(PlaceKind.COMMUNITY)
#: Topics a meeting may put on its agenda (not those already done or declined).
AGENDA_TOPIC_STATUSES = (
    TopicStatus.GATHERING,
    TopicStatus.OFFERED,
    TopicStatus.LISTED,
    TopicStatus.SCHEDULED,
    TopicStatus.DECIDED,
)


def meeting_list(*, actor: Actor, place: Place | None = None) -> QuerySet[Meeting]:
    qs = Meeting.objects.visible(actor, DelibCap.VIEW).select_related("place")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    return qs.order_by("-starts_at", "-id")


def access_meeting(actor: Actor, pk: Any) -> Meeting:
    return get_or_404(meeting_list(actor=actor), pk, "meeting")


def access_meeting_to(actor: Actor, pk: Any, capability: str) -> Meeting:
    """A meeting the actor may read and act on with ``capability`` (404 when it may not
    read it, 403 when it may read but not act)."""
    meeting = access_meeting(actor, pk)
    if not scope_for(actor).allows(capability, meeting.place_path):
        raise PermissionDenied(_("您没有此项权限"))
    return meeting


def meeting_by_token(actor: Actor, token: str) -> Meeting:
    """The meeting whose door code carries ``token``, if the actor may read it (else 404)."""
    found = meeting_list(actor=actor).filter(checkin_token=token).first() if token else None
    if found is None:
        raise Http404("meeting not found")
    return found


def my_invitations(*, actor: Actor, upcoming: bool, now: dt.datetime | None = None) -> QuerySet[Invitation]:
    """The actor's own invitations, to meetings to come (soonest first) or past (latest first)."""
    now = now or timezone.now()
    person_id = scope_for(actor).person_id
    if person_id is None:
        return Invitation.objects.none()
    qs = Invitation.objects.filter(person_id=person_id).select_related("meeting__place")
    if upcoming:
        return qs.filter(meeting__ends_at__gte=now).order_by("meeting__starts_at", "meeting_id")
    return qs.filter(meeting__ends_at__lt=now).order_by("-meeting__starts_at", "-meeting_id")


def my_invitation(actor: Actor, meeting: Meeting) -> Invitation | None:
    person_id = scope_for(actor).person_id
    if person_id is None:
        return None
    return Invitation.objects.filter(meeting=meeting, person_id=person_id).first()


def has_upcoming_invitation(actor: Actor) -> bool:
    return my_invitations(actor=actor, upcoming=True).exclude(meeting__status=MeetingStatus.CANCELLED).exists()


def rsvp_counts(meeting: Meeting) -> dict[str, int]:
    """How many invitees answered what, and how many were invited (one query)."""
    rows = meeting.invitations.order_by().values("rsvp").annotate(n=Count("id"))
    counts = dict.fromkeys(Rsvp.values, 0)
    for row in rows:
        counts[row["rsvp"]] = row["n"]
    counts["invited"] = sum(counts[v] for v in Rsvp.values)
    return counts


@dataclass(frozen=True)
class DoorCount:
    present: int
    invited: int
    quorum: int | None

    @property
    def reached(self) -> bool:
        return self.quorum is not None and self.present >= self.quorum

    @property
    def missing(self) -> int:
        return max(0, (self.quorum or 0) - self.present)


def door_count(meeting: Meeting) -> DoorCount:
    """The live count at the door: attendees against the quorum (two counts on indexed keys;
    never one join of invitations by attendance, which grows as their product)."""
    return DoorCount(present=meeting.attendance.count(), invited=meeting.invitations.count(), quorum=meeting.quorum)


def door_list(meeting: Meeting, q: str = "", limit: int = 50) -> list[tuple[Invitation, bool]]:
    """The invited list at the door (by name), each with whether they are present (two queries)."""
    qs = meeting.invitations.select_related("person__place").order_by("person__name", "id")
    if q:
        qs = qs.filter(person__name_search__contains=normalize(q))
    rows = list(qs[:limit])
    present = set(
        meeting.attendance.filter(person_id__in=[r.person_id for r in rows]).values_list("person_id", flat=True)
    )
    return [(r, r.person_id in present) for r in rows]


def attachments_of(meeting: Meeting) -> list[MinutesAttachment]:
    return list(meeting.attachments.order_by("uploaded_at", "id"))


def minutes_readable(actor: Actor, meeting: Meeting) -> bool:
    """Published minutes are read by whoever reads the meeting; drafts by those who write them."""
    return meeting.minutes_published_at is not None or scope_for(actor).allows(DelibCap.RUN, meeting.place_path)


def topics_for_place(actor: Actor, place: Place) -> QuerySet[Topic]:
    return (
        Topic.objects.visible(actor, DelibCap.VIEW)
        .filter(place_path__startswith=place.path, status__in=AGENDA_TOPIC_STATUSES)
        .order_by("-created_at", "-id")
    )


#: Roles one may invite by.
INVITE_ROLES = (
    Role.RESIDENT,
    Role.BUILDING_LEADER,
    Role.CENTRAL_HOUSEHOLD,
    Role.VOLUNTEER,
    Role.GRID_WORKER,
    Role.COMMUNITY_STAFF,
    Role.SECRETARY,
    Role.MEDIATOR,
)


def access_place_to_plan(actor: Actor, code: str) -> Place:
    """A place where the actor reads deliberation (else 404) and plans meetings (else 403)."""
    place = access_place(actor, code, DelibCap.VIEW)
    if not scope_for(actor).allows(DelibCap.RUN, place.path):
        raise PermissionDenied(_("您没有此项权限"))
    return place


def invitable_households(actor: Actor, meeting: Meeting) -> QuerySet[Household]:
    """The households under the meeting's place the actor may see (to invite by household)."""
    return household_list(actor=actor, place=meeting.place)


def door_person(person_id: Any) -> Person:
    """The person staff at the door tick (the service checks they may attend)."""
    try:
        found = Person.objects.filter(pk=int(person_id)).first() if person_id is not None else None
    except (TypeError, ValueError, OverflowError):
        found = None
    if not isinstance(found, Person):
        raise ValidationError({"person": [_("请选择参会人")]})
    return found


# --- decisions ------------------------------------------------------------------------------------


def owner_candidates(actor: Actor, meeting: Meeting) -> QuerySet[Person]:
    """Who may own a decision of the meeting: its invitees and the staff of its place, among
    the people the actor may see."""
    invited = meeting.invitations.values("person_id")
    staff = Membership.objects.filter(ended_at__isnull=True, place__path__startswith=meeting.place_path).exclude(
        role=Role.RESIDENT
    )
    return (
        person_list(actor=actor).filter(Q(pk__in=invited) | Q(pk__in=staff.values("person_id"))).order_by("name", "id")
    )


def agenda_topics(meeting: Meeting) -> list[Topic]:
    """The topics on the meeting's agenda (a decision may settle one of them)."""
    return [a.topic for a in meeting.agenda.select_related("topic") if a.topic is not None]


def decision_departments(meeting: Meeting) -> QuerySet[Department]:
    """The departments at the meeting's place or above it, which a decision's need may go to."""
    return Department.objects.filter(place__path__in=ancestor_paths(meeting.place_path)).order_by("name", "id")


def may_report(actor: Actor, decision: Decision) -> bool:
    """The owner and the staff who run meetings at its place report on a decision."""
    scope = scope_for(actor)
    return scope.allows(DelibCap.RUN, decision.place_path) or (
        scope.person_id is not None and scope.person_id == decision.owner_id
    )


def access_decision_to_report(actor: Actor, pk: Any) -> Decision:
    """A decision the actor may read (else 404) and report on (else 403)."""
    decision = access_decision(actor, pk)
    if not may_report(actor, decision):
        raise PermissionDenied(_("只有责任人或社区工作人员可以更新进展"))
    return decision


def decision_list(*, actor: Actor, place: Place | None = None) -> QuerySet[Decision]:
    qs = Decision.objects.visible(actor, DelibCap.VIEW).select_related("meeting", "owner", "topic")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    return qs.order_by("due", "id")


def access_decision(actor: Actor, pk: Any) -> Decision:
    return get_or_404(decision_list(actor=actor), pk, "decision")


def decisions_of_meeting(actor: Actor, meeting: Meeting) -> list[Decision]:
    return list(decision_list(actor=actor).filter(meeting=meeting))


def decisions_of_topic(actor: Actor, topic: Topic) -> list[Decision]:
    """A topic's decisions the actor may read, with their progress (for the topic's page)."""
    return list(decision_list(actor=actor).filter(topic=topic).prefetch_related("notes"))


def overdue_decisions(*, actor: Actor, place: Place, today: dt.date | None = None) -> QuerySet[Decision]:
    """Open decisions past their due date under ``place`` that the actor oversees, by
    community then due date."""
    today = today or timezone.localdate()
    return (
        Decision.objects.visible(actor, DelibCap.OVERSEE)
        .filter(place_path__startswith=place.path, status=DecisionStatus.OPEN, due__lt=today)
        .select_related("meeting__place", "owner", "topic")
        .order_by("place_path", "due", "id")
    )


def overdue_by_community(*, actor: Actor, place: Place, today: dt.date | None = None) -> list[tuple[Place, int]]:
    """Each community under ``place`` with overdue decisions, and how many (two queries)."""
    rows = (
        overdue_decisions(actor=actor, place=place, today=today)
        .order_by()
        .annotate(community=Substr("place_path", 1, COMMUNITY_PATH_LEN))
        .values("community")
        .annotate(n=Count("id"))
        .order_by("community")
    )
    counts = {row["community"]: row["n"] for row in rows}
    places = {p.path: p for p in Place.objects.filter(path__in=list(counts))}
    return [(places[path], n) for path, n in counts.items() if path in places]
