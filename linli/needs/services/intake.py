"""A need comes in: from a resident's phone, a building's QR code, a visit, staff or the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.access import Actor, is_system, scope_for, user_of
from linli.core.text import looks_gbk_damaged, normalize
from linli.needs.capabilities import NeedCap
from linli.needs.models import (
    Category,
    Channel,
    EventKind,
    HandlingLevel,
    Level,
    Need,
    NeedReporter,
    Urgency,
)
from linli.needs.photos import PhotoUpload, photos_attach
from linli.needs.selectors import may_submit_at
from linli.needs.services.common import (
    _city_and_district,
    _due,
    _limits,
    _now,
    category_for,
    notify_need,
    record_need_event,
)
from linli.people.identity import normalize_phone
from linli.people.models import Person
from linli.places.models import Place

MAX_TEXT = 2000


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请描述您的诉求")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [_("内容过长(最多%(MAX_TEXT)s字)") % {"MAX_TEXT": MAX_TEXT}]})
    if looks_gbk_damaged(text):
        raise ValidationError({"text": [_("内容疑似乱码(编码错误)，请重新输入")]})
    return text


#: Channels that say staff took a need in, and the capability it takes to say so. Anyone may
#: report as a resident, through a building's QR code or through the API; a channel the actor
#: may not claim is set by the server (to the resident's own). Another app adds the channel it
#: brings needs in by (visits: ``register_channel``).
_CHANNEL_CAPABILITY: dict[str, str] = {
    Channel.STAFF: NeedCap.HANDLE_NEEDS,
    Channel.PATROL: NeedCap.HANDLE_NEEDS,
    Channel.MEETING: NeedCap.HANDLE_NEEDS,
    Channel.VISIT: NeedCap.HANDLE_NEEDS,
}


def register_channel(channel: str, capability: str) -> None:
    """Let actors holding ``capability`` at a place take needs in by ``channel`` there."""
    _CHANNEL_CAPABILITY[channel] = capability


def _permitted_channel(actor: Actor, place: Place, channel: str) -> str:
    needed = _CHANNEL_CAPABILITY.get(channel)
    if needed is None or is_system(actor) or scope_for(actor).allows(needed, place.path):
        return channel
    return Channel.RESIDENT


def _point(lat: Any, lng: Any) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    try:
        la, lo = Decimal(str(lat)), Decimal(str(lng))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationError({"lat": [_("坐标格式不正确")]}) from exc
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise ValidationError({"lat": [_("坐标超出范围")]})
    return la.quantize(Decimal("0.000001")), lo.quantize(Decimal("0.000001"))


# --- intake --------------------------------------------------------------------------------


def intake_check(*, text: str, phone: str = "", lat: Any = None, lng: Any = None) -> None:
    """What ``need_create`` will refuse whatever the place: an adapter checks it before it
    looks the place up, so that a bad request gets the same answer at any place."""
    _check_text(text)
    if phone:
        normalize_phone(phone)
    _point(lat, lng)


@dataclass
class Reporter:
    """Who raised the need, when it is not the actor itself (staff entering it for someone)."""

    person: Person | None = None
    name: str = ""
    phone: str = ""


def need_create(
    *,
    actor: Actor,
    text: str,
    place: Place | None = None,
    lat: Any = None,
    lng: Any = None,
    address_string: str = "",
    category_code: str | None = None,
    channel: str = Channel.RESIDENT,
    urgency: str = Urgency.NORMAL,
    reporter: Reporter | None = None,
    photos: Sequence[PhotoUpload] = (),
    api_client: Any = None,
    now: dt.datetime | None = None,
) -> Need:
    """Take in a need: locate it to a grid, suggest its category (staff confirm later unless a
    category is given by staff), compute its deadlines, record the reporter and the
    ``submitted`` event with the duplicate candidates found, and tell the grid.

    Residents report in their own community; staff anywhere in their scope. Either ``place``
    or a point (``lat``/``lng``, WGS-84) that falls inside a grid's boundary is required.
    """
    from linli.needs import triage

    now = _now(now)
    text = _check_text(text)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("未知的来源渠道")]})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": [_("未知的紧急程度")]})
    la, lo = _point(lat, lng)
    located = triage.locate(place=place, lat=la, lng=lo)
    if located is None:
        if place is None:
            raise ValidationError({"place": [_("该坐标不在本平台服务的街道范围内，请选择地点")]})
        raise ValidationError({"place": [_("请选择社区、网格、楼栋或住户")]})
    place, grid = located.place, located.grid
    if not may_submit_at(actor, place):
        raise PermissionDenied(_("不能在此地点反映诉求"))
    channel = _permitted_channel(actor, place, channel)
    city, district = _city_and_district(place)
    category = None
    confirmed = False
    suggestions: list[tuple[str, float]] = []
    if category_code:
        category = category_for(category_code, city=city)
        confirmed = is_system(actor) or scope_for(actor).allows(NeedCap.HANDLE_NEEDS, place.path)
    else:
        suggestions = triage.suggest_categories(text)
        if suggestions:
            category = Category.objects.filter(code=suggestions[0][0], active=True).first()
    duplicates = triage.find_duplicates(text, place=place, lat=la, lng=lo)
    person = reporter.person if reporter else None
    if reporter is None and not is_system(actor):
        person = getattr(actor, "person", None)
    phone = ""
    if reporter and reporter.phone:
        phone = normalize_phone(reporter.phone)
    elif person is not None:
        phone = person.phone
    limits = _limits(category, urgency)
    if located.to_locate:  # at a street, for its staff to place in a community or grid
        level = Level.STREET
    elif grid is None or (category and category.level == HandlingLevel.COMMUNITY):
        level = Level.COMMUNITY
    else:
        level = Level.GRID
    with transaction.atomic():
        need = Need(
            text=text,
            text_search=normalize(text),
            category=category,
            category_confirmed=confirmed,
            place=place,
            grid=grid,
            district=district,
            lat=la,
            lng=lo,
            address_string=(address_string or "")[:200],
            channel=channel,
            urgency=urgency,
            level=level,
            submitted_by=user_of(actor),
            api_client=api_client,
            created_at=now,
            updated_at=now,
            response_due=_due(now, limits["response"], city),
            resolution_due=_due(now, limits["resolution"], city),
        )
        # the database enforces the check constraints; validating them here costs a query each
        need.full_clean(
            exclude=["place", "grid", "district", "category", "api_client", "submitted_by"], validate_constraints=False
        )
        need.save()
        NeedReporter.objects.create(
            need=need,
            person=person,
            user=getattr(person, "user", None) if person else None,
            name=(reporter.name if reporter and reporter.name else (person.name if person else ""))[:60],
            phone=phone,
            joined_at=now,
        )
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor)
        record_need_event(
            need,
            EventKind.SUBMITTED,
            actor=actor,
            at=now,
            data={
                "channel": channel,
                "suggested": [[code, round(score, 3)] for code, score in suggestions],
                # the reporter's own choice of category, which staff have yet to confirm
                "chosen": category.code if category_code and category and not confirmed else "",
                "duplicates": [[pk, round(score, 3)] for pk, score in duplicates],
            },
        )
        notify_need(need, "submitted")
    return need
