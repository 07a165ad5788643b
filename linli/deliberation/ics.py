"""A meeting as an iCalendar file (RFC 5545), written with the ``icalendar`` package: one
VEVENT with a UID that stays the same for the meeting's life, its SEQUENCE raised at each
change of time, venue or title (so that a phone's calendar updates the event it already has),
times in UTC, and STATUS:CANCELLED once it is cancelled."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from icalendar import Calendar, Event

from linli.deliberation.models import Meeting, MeetingStatus


def meeting_calendar(meeting: Meeting, *, url: str, host: str, now: dt.datetime | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Linli//deliberation//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{meeting.pk}@{host.split(':')[0] or 'linli'}")
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(dt.UTC))
    event.add("dtend", meeting.ends_at.astimezone(dt.UTC))
    event.add("summary", meeting.title)
    event.add("location", meeting.venue)
    agenda = [item.title for item in meeting.agenda.all()]
    if agenda:
        event.add("description", "\n".join(f"{n}. {title}" for n, title in enumerate(agenda, 1)))
    event.add("url", url)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
