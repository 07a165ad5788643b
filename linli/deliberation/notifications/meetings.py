"""What meetings tell whom, by SMS (``core.notify``): an invitation, a change of time or venue,
a cancellation and the reminder the day before, each to the invitees named in the payload
(looked up when it is sent, so a number changed since is used), with a link to the meeting.

A payload names a meeting and at most ``BATCH`` invitations: inviting a whole community is a
few hundred notifications of ``BATCH`` people each, not one per person nor one with thousands
of ids. Titles and venues are cut short so that every message fits two SMS."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from linli.core.notify import NotificationKind, Recipient
from linli.deliberation.models import Decision, Invitation, Meeting

#: Invitations named by one notification.
BATCH = 200
#: How much of a title or a venue a message carries.
TITLE_CHARS = 20
VENUE_CHARS = 16


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def meeting_link(meeting_id: int) -> str:
    return settings.LINLI_SITE_URL.rstrip("/") + reverse("deliberation:meeting", kwargs={"pk": meeting_id})


def _invitees(payload: dict[str, Any]) -> list[Recipient]:
    phones = (
        Invitation.objects.filter(pk__in=payload.get("invitations", []), meeting_id=payload["meeting"])
        .exclude(person__phone="")
        .values_list("person__phone", flat=True)
    )
    return [Recipient(phone=p) for p in sorted(set(phones))]


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    meeting = Meeting.objects.filter(pk=payload["meeting"]).first()
    if meeting is None:
        return {"title": "", "when": "", "time": "", "venue": "", "link": ""}
    local = timezone.localtime(meeting.starts_at)
    return {
        "title": _short(meeting.title, TITLE_CHARS),
        "when": date_format(local, "SHORT_DATETIME_FORMAT"),
        "time": date_format(local, "TIME_FORMAT"),
        "venue": _short(meeting.venue, VENUE_CHARS),
        "link": meeting_link(meeting.pk),
    }


_EXAMPLE = {
    "title": "常二社区居民议事会第十二次会议关于加装电…",
    "when": "2026-12-08 19:30",
    "time": "19:30",
    "venue": "常二社区党群服务中心二楼会…",
    "link": "https://linli.example.org/deliberation/meetings/123456/",
}

INVITED = NotificationKind(
    key="deliberation.meeting_invited",
    text=_("【邻里】邀请您参加%(title)s，%(when)s在%(venue)s召开。请点链接回复是否参加：%(link)s"),
    recipients=_invitees,
    values=_values,
    example=_EXAMPLE,
)
CHANGED = NotificationKind(
    key="deliberation.meeting_changed",
    text=_("【邻里】%(title)s有变更：改为%(when)s在%(venue)s召开。详情：%(link)s"),
    recipients=_invitees,
    values=_values,
    example=_EXAMPLE,
)
CANCELLED = NotificationKind(
    key="deliberation.meeting_cancelled",
    text=_("【邻里】原定%(when)s召开的%(title)s已取消，敬请谅解。详情：%(link)s"),
    recipients=_invitees,
    values=_values,
    example=_EXAMPLE,
)
REMINDER = NotificationKind(
    key="deliberation.meeting_reminder",
    text=_("【邻里】提醒：%(title)s将于%(when)s在%(venue)s召开，请准时参加。%(link)s"),
    recipients=_invitees,
    values=_values,
    example=_EXAMPLE,
)


def _owner(payload: dict[str, Any]) -> list[Recipient]:
    phone = (
        Decision.objects.filter(pk=payload["decision"]).exclude(owner__phone="").values_list("owner__phone", flat=True)
    ).first()
    return [Recipient(phone=phone)] if phone else []


def _decision_values(payload: dict[str, Any]) -> dict[str, Any]:
    decision = Decision.objects.filter(pk=payload["decision"]).first()
    if decision is None:
        return {"text": "", "due": "", "link": ""}
    return {
        "text": _short(decision.text, DECISION_CHARS),
        "due": date_format(decision.due, "SHORT_DATE_FORMAT"),
        "link": settings.LINLI_SITE_URL.rstrip("/") + reverse("deliberation:decision", kwargs={"pk": decision.pk}),
    }


DECISION_CHARS = 30
OWNER = NotificationKind(
    key="deliberation.decision_owner",
    text=_("【邻里】议事会决定由您负责落实：%(text)s，期限%(due)s。详情：%(link)s"),
    recipients=_owner,
    values=_decision_values,
    example={
        "text": "疏通3栋排水管并请水务公司检修老化管道，费用从维修资金列…",
        "due": "2026-12-31",
        "link": "https://linli.example.org/deliberation/decisions/123456/",
    },
)
KINDS = [INVITED, CHANGED, CANCELLED, REMINDER, OWNER]
