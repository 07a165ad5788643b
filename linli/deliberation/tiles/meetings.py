"""The home page's tiles of meetings: the invitee's meetings, the secretary's planning, and
the street's overdue decisions (``core.registry``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, scope_for
from linli.core.registry import Tile
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.selectors.meetings import has_upcoming_invitation
from linli.places.selectors import places_rooted


def _overdue_url(actor: Actor) -> str:
    place = places_rooted(actor, DelibCap.OVERSEE).order_by("path").first()
    if place is None:
        return reverse("deliberation:meetings_mine")
    return reverse("deliberation:decisions_overdue", kwargs={"code": place.code})


def _title(actor: Actor) -> Any:
    return _("组织议事会") if scope_for(actor).holds_anywhere(DelibCap.RUN) else _("我的议事会")


TILES = [
    Tile(
        key="meetings-mine",
        title=_("我的议事会"),
        title_for=_title,
        note=_("邀请、签到、会议记录"),
        url_name="deliberation:meetings_mine",
        shown=lambda actor: scope_for(actor).holds_anywhere(DelibCap.CHECK_IN) or has_upcoming_invitation(actor),
        order=65,
    ),
    Tile(
        key="decisions-overdue",
        title=_("超期议定事项"),
        note=_("各社区议事会决定的落实"),
        url_name="deliberation:decisions_overdue",
        url=_overdue_url,
        shown=lambda actor: scope_for(actor).holds_anywhere(DelibCap.OVERSEE),
        order=66,
        section="more",
    ),
]
