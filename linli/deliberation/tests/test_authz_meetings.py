"""Who reaches the pages and API of meetings and decisions (the cases of
``linli.testing.authz``). The app's ``tests/test_authz.py`` imports this class, so that the
central test finds it."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.access import SYSTEM, Role
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Decision, Invitation, Meeting
from linli.deliberation.services import meetings as services
from linli.deliberation.tests.meetings_world import meetings_of
from linli.people.models import Person
from linli.places.models import PlaceKind, path_len
from linli.testing.authz import AuthzCases, Scoped, granted_paths

COMMUNITY = path_len(PlaceKind.COMMUNITY)


def _communities(paths: list[str]) -> list[str]:
    return [p[:COMMUNITY] for p in paths if len(p) >= COMMUNITY]


def _expected_meetings(user: Any) -> set[int]:
    readable = granted_paths(user, DelibCap.VIEW)
    communities = _communities(readable)
    invited = set(Invitation.objects.filter(person__user=user).values_list("meeting_id", flat=True))
    return {
        m.pk
        for m in Meeting.objects.all()
        if any(m.place_path.startswith(p) for p in readable + communities) or m.pk in invited
    }


def _expected_decisions(user: Any) -> set[int]:
    readable = granted_paths(user, DelibCap.VIEW)
    communities = _communities(readable)
    person = Person.objects.filter(user=user).first()
    return {
        d.pk
        for d in Decision.objects.select_related("meeting")
        if any(d.place_path.startswith(p) for p in readable)
        or (d.meeting.minutes_published_at is not None and any(d.place_path.startswith(p) for p in communities))
        or (person is not None and d.owner_id == person.pk)
    }


@pytest.mark.django_db
class TestAuthzMeetings(AuthzCases):
    public = {
        "deliberation:meetings_mine": "the reader's own invitations, and the places where it runs meetings",
        "meeting-list": "scoped by the selector (compared below)",
        "decision-list": "scoped by the selector (compared below)",
        "meeting-checkin": "the token is looked up among the meetings the reader may read (test_meetings_decisions)",
    }
    scoped = {
        "deliberation:meetings_place": Scoped("GET", "community", wrong="department_liaison", right="secretary"),
        "deliberation:meeting_new": Scoped("GET", "community", wrong="volunteer", right="secretary"),
        "deliberation:meeting": Scoped("GET", "meeting", wrong="outsider"),
        "deliberation:meeting_edit": Scoped("GET", "meeting", wrong="volunteer", right="secretary"),
        "deliberation:meeting_invite": Scoped("GET", "meeting", wrong="volunteer", right="secretary"),
        "deliberation:meeting_rsvp": Scoped("POST", "meeting", wrong="outsider"),
        "deliberation:meeting_ics": Scoped("GET", "meeting", wrong="outsider"),
        "deliberation:meeting_door": Scoped("GET", "meeting", wrong="volunteer", right="community_staff"),
        "deliberation:meeting_door_count": Scoped("GET", "meeting", wrong="volunteer", right="community_staff"),
        "deliberation:meeting_tick": Scoped("POST", "meeting", wrong="volunteer", right="community_staff"),
        "deliberation:meeting_checkin": Scoped("GET", "checkin", wrong="outsider"),
        "deliberation:meeting_minutes": Scoped("GET", "meeting", wrong="volunteer", right="secretary"),
        "deliberation:minutes_file": Scoped("GET", "file", wrong="outsider"),
        "deliberation:decision_new": Scoped("GET", "meeting", wrong="volunteer", right="secretary"),
        "deliberation:decision": Scoped("GET", "decision", wrong="outsider"),
        "deliberation:decision_report": Scoped("POST", "decision", wrong="volunteer", right="secretary"),
        "deliberation:decisions_place": Scoped("GET", "community", wrong="department_liaison", right="secretary"),
        "deliberation:decisions_overdue": Scoped("GET", "street", wrong="secretary", right="street_official"),
        "meeting-detail": Scoped("GET", "meeting", wrong="outsider"),
        "meeting-rsvp": Scoped("POST", "meeting", wrong="outsider"),
        "decision-detail": Scoped("GET", "decision", wrong="outsider"),
        "meeting-invite": Scoped("POST", "meeting", wrong="volunteer", right="secretary"),
        "meeting-tick": Scoped("POST", "meeting", wrong="volunteer", right="community_staff"),
        "meeting-minutes": Scoped("POST", "meeting", wrong="volunteer", right="secretary"),
        "decision-report": Scoped("POST", "decision", wrong="volunteer", right="secretary"),
        # last: they cancel the meeting the others use
        "meeting-cancel": Scoped("POST", "meeting", wrong="volunteer", right="secretary"),
        "deliberation:meeting_cancel": Scoped("POST", "meeting", wrong="volunteer", right="secretary"),
    }
    lists = {"/api/meetings/": _expected_meetings, "/api/decisions/": _expected_decisions}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        made = meetings_of(world)[tag]
        meeting = made["meeting"]
        return {
            **super().objects(world, tag),
            "community": {"code": world.places[f"community_{tag}"].code},
            "street": {"code": world.street.code},
            "meeting": {"pk": meeting.pk},
            "checkin": {"token": meeting.checkin_token},
            "file": {"pk": meeting.pk, "file_id": made["attachment"].pk},
            "decision": {"pk": made["decision"].pk},
        }

    def populate(self, world: Any) -> None:
        """Beyond the meetings: community A's resident invited to B's meeting (a representative
        asked to a neighbour's council), so that the invitation alone shows it to them."""
        made = meetings_of(world)
        Invitation.objects.get_or_create(meeting=made["b"]["meeting"], person=world.people["resident_a"])
        services.invite_by_role(actor=SYSTEM, meeting=made["a"]["coming"], role=Role.VOLUNTEER)
