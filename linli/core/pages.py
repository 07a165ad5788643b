"""What every page that writes shares: a service's refusal shown as a message, never a 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from linli.core.errors import Conflict


def messages_of(exc: ValidationError) -> str:
    """All the messages of a validation error as one line."""
    separator = gettext("；")  # a separator in the reader's language
    if hasattr(exc, "error_dict"):
        return separator.join(str(m) for msgs in exc.message_dict.values() for m in msgs)
    return separator.join(str(m) for m in exc.messages)


def attempt(request: HttpRequest, fn: Callable[[], Any], success: str, *, refusals: bool = False) -> bool:
    """Run one service; a refusal becomes a message on the page, never a 500. With
    ``refusals``, a permission refused part-way (say, a handover reaching outside the actor's
    places) is a message too; otherwise it stays a 403."""
    try:
        fn()
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return False
    except Conflict as exc:
        messages.error(request, str(exc))
        return False
    except PermissionDenied as exc:
        if not refusals:
            raise
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


def int_or_none(value: Any) -> int | None:
    """A form or query value as an int, or ``None`` when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def ints(values: Sequence[str]) -> list[int]:
    """The values that are numbers, as ints (the rest dropped)."""
    return [v for v in (int_or_none(x) for x in values) if v is not None]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where a form asked to go back to (its ``next``), if that is on this site; else ``fallback``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def local_span(post: Any, *, overnight: bool = False) -> tuple[dt.datetime, dt.datetime]:
    """The start and end a form gives as a date and two local times (``date``, ``start``,
    ``end``, in the site's time zone); with ``overnight``, an end at or before the start is on
    the next day (a night round from 21:00 to 01:00). Bad values are a ``ValidationError``."""
    try:
        day = dt.date.fromisoformat(post.get("date", ""))
        start = dt.time.fromisoformat(post.get("start", ""))
        end = dt.time.fromisoformat(post.get("end", ""))
    except ValueError as exc:
        raise ValidationError({"starts_at": [_("请填写日期(YYYY-MM-DD)和时间(HH:MM)")]}) from exc
    zone = timezone.get_default_timezone()
    starts_at, ends_at = dt.datetime.combine(day, start, tzinfo=zone), dt.datetime.combine(day, end, tzinfo=zone)
    if overnight and ends_at <= starts_at:
        ends_at += dt.timedelta(days=1)
    return starts_at, ends_at
