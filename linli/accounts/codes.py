"""The limits on the sign-in codes sent by SMS, in the shared counters (``core.ratelimit``).

Asking for a code is limited per phone number (``sms_login_phone``), per address and for the
whole site; a new code to the same number (a resend) waits ``sms_resend_phone`` after the
last one and counts against the number's limit too. Every refusal says how long to wait: the
limits' own answer, to the second.
"""

from __future__ import annotations

from typing import Any

from linli.core import ratelimit

#: The limits a resend is held to: the gap after the last code, and the number's budget.
RESEND_LIMITS = ("sms_resend_phone", "sms_login_phone")


def request_hit(phone: str, request: Any) -> ratelimit.Verdict:
    """Count a request for a code to ``phone`` (from the sign-in form); when it is allowed,
    the gap before a resend starts."""
    verdict = ratelimit.hit_all(
        ("sms_login_phone", phone),
        ("sms_login_ip", ratelimit.client_ip(request)),
        ("sms_login_global", "all"),
    )
    if verdict.allowed:
        ratelimit.hit("sms_resend_phone", phone)
    return verdict


def wait(phone: str) -> int:
    """Seconds until another code may be sent to ``phone`` (0: now)."""
    return max(ratelimit.check(name, phone).retry_after for name in RESEND_LIMITS)


def resend_hit(phone: str) -> ratelimit.Verdict:
    """Count a resend to ``phone`` if it may go now; an early one is refused with the wait and
    counts nothing (pressing too soon does not make the wait longer)."""
    seconds = wait(phone)
    if seconds:
        return ratelimit.Verdict(False, retry_after=seconds)
    return ratelimit.hit_all(*((name, phone) for name in RESEND_LIMITS))
