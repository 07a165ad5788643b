"""What the needs app tells whom, by SMS (``core.notify``): each kind a service emits, its
recipients (looked up when it is sent) and its message.

- The reporters of a need hear that it was received, accepted, moved, reopened, escalated,
  and resolved (with a link of their own to rate it).
- A department's liaisons hear of a whistle to it, of a deadline close at hand, and of the
  community's answer to their request to return a need.
- The staff who decide returns at the need's community hear of a request to return one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role, roles_for
from linli.core.notify import NotificationKind, Recipient
from linli.needs.capabilities import NeedCap
from linli.needs.models import Channel, Dispatch, Need, NeedReporter, covers
from linli.needs.rating_links import rating_link_create
from linli.people.models import Membership
from linli.places.models import Place, PlaceKind, path_len

_COMMUNITY_DEPTH = path_len(PlaceKind.COMMUNITY)


def _need(payload: dict[str, Any]) -> Need | None:
    return Need.objects.select_related("place").filter(pk=int(payload["need"])).first()


def _reporters(payload: dict[str, Any]) -> list[Recipient]:
    rows = NeedReporter.objects.filter(need_id=payload["need"]).exclude(phone="").values_list("pk", "phone")
    return [Recipient(phone=phone, values={"reporter": pk}) for pk, phone in rows]


def _reporters_unless_api(payload: dict[str, Any]) -> list[Recipient]:
    """A need a registered client posted is acknowledged by that client, not by us."""
    need = _need(payload)
    return [] if need is None or need.channel == Channel.API else _reporters(payload)


def _liaisons(payload: dict[str, Any]) -> list[Recipient]:
    if not payload.get("dispatch"):
        return []
    dispatch = Dispatch.objects.select_related("need").filter(pk=int(payload["dispatch"])).first()
    if dispatch is None:
        return []
    # the department's liaisons whose grant covers the need's place (the liaison rule), no others
    rows = Membership.objects.filter(
        role=Role.LIAISON, department_id=dispatch.department_id, ended_at__isnull=True
    ).values_list("place__path", "person__phone")
    return [Recipient(phone=p) for area, p in rows if p and covers(area, dispatch.need.place_path)]


def _deciders(payload: dict[str, Any]) -> list[Recipient]:
    """Those who decide returns at the need's community or below it on the way to the need."""
    need = _need(payload)
    if need is None:
        return []
    steps = [need.place_path[:n] for n in range(_COMMUNITY_DEPTH, len(need.place_path) + 1, Place.steplen)]
    phones = Membership.objects.filter(
        role__in=roles_for(NeedCap.DECIDE_RETURNS), place__path__in=steps, ended_at__isnull=True
    ).values_list("person__phone", flat=True)
    return [Recipient(phone=p) for p in sorted(set(phones)) if p]


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": payload["need"]}
    if payload.get("dispatch"):
        dispatch = Dispatch.objects.select_related("department").filter(pk=payload["dispatch"]).first()
        values["department"] = dispatch.department.name if dispatch is not None else ""
    if payload.get("place"):
        place = Place.objects.filter(code=payload["place"]).first()
        values["place"] = place.name if place is not None else ""
    return values


def _rating_link(recipient: Recipient, payload: dict[str, Any]) -> dict[str, Any]:
    """A new single-use link for this reporter to rate the need's current round."""
    reporter = NeedReporter.objects.select_related("need").get(pk=recipient.values["reporter"])
    token = rating_link_create(reporter=reporter, round_=reporter.need.reopen_count + 1)
    return {"link": settings.LINLI_SITE_URL.rstrip("/") + reverse("needs:rate_by_link", kwargs={"token": token})}


_EXAMPLE = {"pk": 123456, "department": "武汉市水务集团有限公司江汉分公司", "place": "常二社区第一网格3栋"}
_EXAMPLE_LINK = {"link": "https://linli.example.org/r/" + "x" * 43 + "/"}

KINDS = [
    NotificationKind(
        key="needs.submitted",
        text=_("【邻里】您反映的诉求已收到(编号%(pk)s)，我们会尽快处理。"),
        recipients=_reporters_unless_api,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.accepted",
        text=_("【邻里】您反映的诉求(编号%(pk)s)已受理，正在办理。"),
        recipients=_reporters,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.transferred",
        text=_("【邻里】您反映的诉求(编号%(pk)s)已转至%(place)s办理。"),
        recipients=_reporters,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.reopened",
        text=_("【邻里】您不满意的诉求(编号%(pk)s)已重新办理。"),
        recipients=_reporters,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.escalated",
        text=_("【邻里】您的诉求(编号%(pk)s)已提级办理。"),
        recipients=_reporters,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.resolved",
        text=_("【邻里】您反映的诉求(编号%(pk)s)已办结，请评价：%(link)s"),
        recipients=_reporters,
        values=_values,
        personal=_rating_link,
        example={**_EXAMPLE, **_EXAMPLE_LINK},
    ),
    NotificationKind(
        key="needs.whistled",
        text=_("【邻里】社区吹哨：诉求编号%(pk)s请%(department)s报到办理。"),
        recipients=_liaisons,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.due_soon",
        text=_("【邻里】诉求编号%(pk)s即将超期，请及时办理。"),
        recipients=_liaisons,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.return_requested",
        text=_("【邻里】%(department)s申请退回诉求编号%(pk)s，请审批。"),
        recipients=_deciders,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.return_approved",
        text=_("【邻里】诉求编号%(pk)s的退单申请已同意。"),
        recipients=_liaisons,
        values=_values,
        example=_EXAMPLE,
    ),
    NotificationKind(
        key="needs.return_rejected",
        text=_("【邻里】诉求编号%(pk)s的退单申请未获同意，请继续办理。"),
        recipients=_liaisons,
        values=_values,
        example=_EXAMPLE,
    ),
]
