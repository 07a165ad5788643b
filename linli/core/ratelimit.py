"""Rate limits that hold across processes and machines: one counter row per limit, subject
and time window in PostgreSQL, counted with one atomic ``INSERT … ON CONFLICT`` statement.

A limit is named in ``settings.LINLI_RATE_LIMITS`` as ``"count/period"``: ``"3/5m"`` is three
in five minutes (periods ``s``, ``m``, ``h``, ``d`` with an optional multiplier). A name left
out, or set to an empty string, does not limit. The window slides: the previous window's hits
count in proportion to how much of it still lies within the period, so a burst straddling two
windows is not let through twice.

``hit`` counts and answers; ``check`` only answers (a failed sign-in is counted when it fails,
but every attempt is checked). Call them outside a transaction that may roll back: a hit
counted inside one is lost with it.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


ALLOWED = Verdict(True)


def parse_rate(text: str) -> Rate:
    """``"3/5m"`` → three in 300 seconds; raises ``ValueError`` for anything else."""
    match = _RATE.match(text or "")
    if not match:
        raise ValueError(f"not a rate: {text!r} (write it as count/period, e.g. 3/5m)")
    count, multiplier, unit = match.groups()
    return Rate(count=int(count), seconds=int(multiplier or 1) * _UNIT[unit])


def rate_for(name: str) -> Rate | None:
    text = getattr(settings, "LINLI_RATE_LIMITS", {}).get(name, "")
    return parse_rate(text) if text else None


def client_ip(request: Any) -> str:
    """The address a request came from. Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the
    address the nearest untrusted hop gave them (the proxies append to X-Forwarded-For)."""
    meta = getattr(request, "META", {})
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies:
        hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(meta.get("REMOTE_ADDR") or "unknown")


def _key(name: str, subject: object) -> str:
    return hashlib.sha256(f"{name}\x00{subject}".encode()).hexdigest()


_COUNT = """
WITH counted AS (
    INSERT INTO core_ratecounter (key, "window", hits, expires) VALUES (%s, %s, 1, %s)
    ON CONFLICT (key, "window") DO UPDATE SET hits = core_ratecounter.hits + 1
    RETURNING hits
)
SELECT (SELECT hits FROM counted),
       COALESCE((SELECT hits FROM core_ratecounter WHERE key = %s AND "window" = %s), 0)
"""
_PEEK = """
SELECT COALESCE((SELECT hits FROM core_ratecounter WHERE key = %s AND "window" = %s), 0),
       COALESCE((SELECT hits FROM core_ratecounter WHERE key = %s AND "window" = %s), 0)
"""


def _verdict(rate: Rate, current: int, previous: int, elapsed: float, recorded: int) -> Verdict:
    """Whether ``current`` hits in this window (the one asked about included) are within the
    limit, with ``previous`` in the last one and ``elapsed`` seconds into this one; if not, how
    long until one more would be, for a client that waits (``recorded``: the hits this window
    keeps). That wait is exact: a page may count it down, and the limit lets the next one
    through when it ends."""
    weight = max(0.0, 1.0 - elapsed / rate.seconds)
    if previous * weight + current <= rate.count:
        return ALLOWED
    if current <= rate.count:
        # within this window, once enough of the previous one has slid out
        wait = rate.seconds * (1 - (rate.count - current) / previous) - elapsed
    else:
        # not in this window: in the next, once enough of this one's hits have slid out
        # (``recorded`` of them weigh on a single new hit there)
        share = 1 - (rate.count - 1) / recorded if recorded else 0.0
        wait = rate.seconds - elapsed + rate.seconds * max(0.0, share)
    return Verdict(False, retry_after=max(1, math.ceil(wait)))


def _count(name: str, subject: object, *, add: bool) -> Verdict:
    rate = rate_for(name)
    if rate is None:
        return ALLOWED
    now = time.time()
    window = int(now // rate.seconds) * rate.seconds
    key = _key(name, subject)
    with connection.cursor() as cursor:
        if add:
            cursor.execute(_COUNT, [key, window, window + 2 * rate.seconds, key, window - rate.seconds])
        else:
            cursor.execute(_PEEK, [key, window, key, window - rate.seconds])
        current, previous = cursor.fetchone()
    recorded = int(current)
    if not add:
        current += 1  # would the next hit be allowed?
    return _verdict(rate, int(current), int(previous), now - window, recorded)


def hit(name: str, subject: object) -> Verdict:
    """Count one hit of ``subject`` (an address, a phone, a client id) against the limit
    ``name`` and say whether it is within the limit."""
    return _count(name, subject, add=True)


def check(name: str, subject: object) -> Verdict:
    """Whether one more hit would be within the limit, without counting one."""
    return _count(name, subject, add=False)


def hit_all(*limits: tuple[str, object]) -> Verdict:
    """Count a hit against each ``(name, subject)``; the strictest verdict. Every limit is
    counted, so a client cannot save one budget by exhausting another."""
    verdicts = [hit(name, subject) for name, subject in limits]
    refused = [v for v in verdicts if not v.allowed]
    return max(refused, key=lambda v: v.retry_after) if refused else ALLOWED


def wait_text(seconds: int) -> str:
    """A wait as a resident reads it: 45秒, 4分05秒 (in the reader's language)."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    if minutes:
        return gettext("%(m)s分%(s)02d秒") % {"m": minutes, "s": rest}
    return gettext("%(s)s秒") % {"s": rest}


def purge_expired(now: float | None = None) -> int:
    """Delete the windows that no limit looks at any more (the worker calls this)."""
    from linli.core.models import RateCounter

    deleted, _ = RateCounter.objects.filter(expires__lt=int(now or time.time())).delete()
    return deleted
