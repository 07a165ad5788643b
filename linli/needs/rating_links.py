"""The links sent by SMS for rating a resolved need without signing in (``RatingLink``).

A link carries 32 random bytes; the database keeps only their SHA-256 digest. It opens one
reporter's rating of one round, for ``RATING_LINK_DAYS`` days, and is spent when used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from linli.needs.models import NeedReporter, RatingLink

RATING_LINK_DAYS = 10


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rating_link_create(*, reporter: NeedReporter, round_: int, now: dt.datetime | None = None) -> str:
    """A new link for ``reporter`` to rate round ``round_``; returns its token (never stored)."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    RatingLink.objects.create(
        digest=_digest(token),
        reporter=reporter,
        round=round_,
        created_at=now,
        expires_at=now + dt.timedelta(days=RATING_LINK_DAYS),
    )
    return token


def rating_link_open(token: str, *, now: dt.datetime | None = None, lock: bool = False) -> RatingLink | None:
    """The live link for ``token`` (not expired, not spent, its round still the need's), or
    ``None`` for anything else, forged or stale alike."""
    if not token or len(token) > 100:
        return None
    now = now or timezone.now()
    qs = RatingLink.objects.select_related("reporter__need__place").filter(
        digest=_digest(token), used_at__isnull=True, expires_at__gt=now
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    link = qs.first()
    if link is None or link.round != link.reporter.need.reopen_count + 1:
        return None
    return link


@transaction.atomic
def rating_link_spend(link: RatingLink, *, now: dt.datetime | None = None) -> None:
    RatingLink.objects.filter(pk=link.pk).update(used_at=now or timezone.now())
