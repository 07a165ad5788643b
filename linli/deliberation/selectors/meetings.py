"""Reads of meetings and decisions, always through the actor's scope (``visible``): what is
out of scope is a 404. Residents read their community's meetings and those they are invited
to, and decisions once the minutes are published; staff read what lies under their places."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, get_or_404, scope_for
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
from linli.places.models import Place, PlaceKind, path_len

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


# --- decisions ------------------------------------------------------------------------------------


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
