"""What deliberation tells whom, by SMS (``core.notify``). Topics: the secretary hears that a
proposal reached its community's threshold and that recurring needs offer a topic; a proposer
hears that the secretary declined their proposal, and why."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.core.access import Role
from linli.core.notify import NotificationKind, Recipient
from linli.deliberation.access import COMMUNITY_PATH_LEN
from linli.deliberation.models import Topic
from linli.people.identity import redact_text
from linli.people.models import Membership, Person

#: Titles and reasons are cut to this many characters so that a message fits two SMS.
SHORT = 24


def _short(text: str) -> str:
    """Cut to ``SHORT`` characters, numbers written in it masked (a title is read by the secretary)."""
    text = redact_text(text)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _topic(payload: dict[str, Any]) -> Topic | None:
    return Topic.objects.select_related("place", "category").filter(pk=int(payload["topic"])).first()


def _secretaries(payload: dict[str, Any]) -> list[Recipient]:
    """The secretaries of the topic's community."""
    topic = _topic(payload)
    if topic is None:
        return []
    phones = Membership.objects.filter(
        role=Role.SECRETARY, place__path=topic.place_path[:COMMUNITY_PATH_LEN], ended_at__isnull=True
    ).values_list("person__phone", flat=True)
    return [Recipient(phone=p) for p in sorted(set(phones)) if p]


def _proposer(payload: dict[str, Any]) -> list[Recipient]:
    topic = _topic(payload)
    if topic is None or topic.proposer_id is None:
        return []
    phone = Person.objects.filter(pk=topic.proposer_id).values_list("phone", flat=True).first()
    return [Recipient(phone=phone)] if phone else []


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    topic = _topic(payload)
    if topic is None:
        return {**payload, "title": "", "place": "", "category": "", "supports": 0, "reason": ""}
    # what the payload carries (the supports when it was listed) is as it was then
    return {
        "title": _short(topic.title),
        "place": _short(topic.place.name),
        "category": topic.category.name if topic.category is not None else "",
        "supports": topic.supports,
        "reason": _short(topic.status_note),
        **payload,
    }


_EXAMPLE = {
    "title": "小区东门加装非机动车充电桩的提议…",
    "supports": 10,
    "place": "常二社区第一网格3栋",
    "category": "排水管网",
    "count": 12,
    "days": 30,
    "reason": "已纳入街道明年的改造计划，暂不单独议…",
}

KINDS = [
    NotificationKind(
        key="deliberation.topic_listed",
        text=_("【邻里】居民提议“%(title)s”已有%(supports)s人附议，已列入待议议题，请查看。"),
        recipients=_secretaries,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="deliberation.topic_offered",
        text=_("【邻里】%(place)s近%(days)s天有%(count)s件“%(category)s”诉求，已生成议题，请确认是否列入。"),
        recipients=_secretaries,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="deliberation.topic_declined",
        text=_("【邻里】您的提议“%(title)s”未列入议题：%(reason)s"),
        recipients=_proposer,
        values=_values,
        example=_EXAMPLE,
    ),
]
