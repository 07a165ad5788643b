from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.core.access import Role
from linli.core.notify import NotificationKind, Recipient
from linli.people.models import Membership
from tests.noticeboard.models import Notice


def _secretaries(payload: dict[str, Any]) -> list[Recipient]:
    """The secretaries of the places above the notice's place (they see what is posted)."""
    notice = Notice.objects.filter(pk=payload["notice"]).first()
    if notice is None:
        return []
    prefixes = [notice.place_path[:n] for n in range(4, len(notice.place_path) + 1, 4)]
    phones = Membership.objects.filter(
        role=Role.SECRETARY, place__path__in=prefixes, ended_at__isnull=True
    ).values_list("person__phone", flat=True)
    return [Recipient(phone=p) for p in phones if p]


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    notice = Notice.objects.filter(pk=payload["notice"]).first()
    return {"title": notice.title if notice else ""}


KINDS = [
    NotificationKind(
        key="noticeboard.posted",
        text=_("【邻里】新公告：%(title)s"),
        recipients=_secretaries,
        values=_values,
        example={"title": "下周二停水通知"},
    )
]
