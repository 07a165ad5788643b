"""What the deliberation services share: the clock a service runs on, and a text field checked."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def now_or(now: dt.datetime | None) -> dt.datetime:
    """The time a service runs at: the one given (a simulated clock), else now."""
    return now or timezone.now()


def checked_text(value: str, field: str, limit: int, *, blank: str = "") -> str:
    """``value`` stripped, at most ``limit`` characters; an empty value is refused with the
    message ``blank`` when one is given (the field is then required)."""
    value = (value or "").strip()
    if blank and not value:
        raise ValidationError({field: [blank]})
    if len(value) > limit:
        raise ValidationError({field: [_("最多%(limit)s个字") % {"limit": limit}]})
    return value
