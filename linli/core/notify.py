"""Notifications: kinds registered by the apps, an outbox written in the caller's
transaction, and delivery by the worker with retries (FixMyStreet's ``SendReport``).

- An app registers each **kind** it emits (``register_kind``) with who receives it (resolved
  when it is sent, so a number changed since is used) and its message (gettext, with
  ``%(name)s`` placeholders, short enough for two SMS segments: a test renders every kind).
- A service calls ``notify("needs.accepted", need=…)`` inside its transaction: one
  ``Notification`` row and one task, both gone if the write rolls back. An unknown kind is
  an error at once (so a kind that would send nothing cannot be emitted).
- The worker delivers each (``deliver``): every recipient once (the digests of the numbers
  reached are kept, so a retry skips them), then the row is ``sent``; a sender that fails
  is tried again after 1, 5, 30 minutes, 2 and 12 hours, then the row is ``failed``.
- Senders are pluggable by channel (``register_sender("sms", send)``; the accounts app
  registers its SMS gateway).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django_tasks import task

from linli.core.models import Notification

logger = logging.getLogger("linli.notify")

#: How long to wait before each retry of a failed delivery; then it has failed.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: their number (E.164), the language to tell them in, and values of
    their own for the message (a reporter's rating link)."""

    phone: str
    language: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationKind:
    """What an app tells whom. ``recipients(payload)`` and ``values(payload)`` run when the
    notification is sent; ``personal(recipient, payload)`` adds values made for one recipient
    (and is run only for those not reached yet). ``example`` is a payload's values for the
    length check."""

    key: str
    text: Any
    recipients: Callable[[dict[str, Any]], list[Recipient]]
    values: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda payload: dict(payload))
    personal: Callable[[Recipient, dict[str, Any]], dict[str, Any]] | None = None
    example: dict[str, Any] = field(default_factory=dict)
    channel: str = "sms"

    def render(self, values: dict[str, Any], language: str = "") -> str:
        with translation.override(language or settings.LANGUAGE_CODE):
            return str(self.text) % values


_KINDS: dict[str, NotificationKind] = {}
_SENDERS: dict[str, Callable[[str, str], None]] = {}


def register_kind(kind: NotificationKind) -> None:
    _KINDS[kind.key] = kind


def kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: k.key)


def register_sender(channel: str, send: Callable[[str, str], None]) -> None:
    """``send(to, body)`` for a channel ("sms")."""
    _SENDERS[channel] = send


def notify(kind: str, **payload: Any) -> Notification:
    """Put a notification in the outbox, in the caller's transaction (it goes out only if
    that commits). ``payload`` holds ids and short values, JSON-serialisable."""
    if kind not in _KINDS:
        raise LookupError(f"no notification kind {kind!r} is registered: register its recipients and message")
    row = Notification.objects.create(kind=kind, payload=payload)
    deliver_notification.enqueue(row.pk)
    return row


def drop_pending(kind_prefix: str) -> int:
    """Forget the notifications still to send whose kind starts with ``kind_prefix`` (a
    simulated history's: the demo's), and their queued deliveries."""
    from django_tasks_db.models import DBTaskResult

    pending = Notification.objects.filter(status=Notification.Status.PENDING, kind__startswith=kind_prefix)
    ids = list(pending.values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        DBTaskResult.objects.filter(
            task_path=deliver_notification.module_path,
            status="READY",
            args_kwargs__args__0__in=ids[start : start + 1000],
        ).delete()
    deleted, _ = pending.delete()
    return deleted


#: A pending notification whose delivery has not run this long after it was due is queued
#: again (its task was lost: a worker killed mid-run, a database that went away).
STALE_AFTER = dt.timedelta(minutes=10)


def requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Queue again the deliveries that should have run by now (the worker's heartbeat)."""
    now = now or timezone.now()
    stale = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, next_attempt_at__lt=now - STALE_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    with transaction.atomic():
        for pk in stale:
            deliver_notification.enqueue(pk)
        Notification.objects.filter(pk__in=stale).update(next_attempt_at=now)
    return len(stale)


@task()
def deliver_notification(notification_id: int) -> str:
    return deliver(notification_id)


def _digest(phone: str) -> str:
    return hashlib.sha256(phone.encode()).hexdigest()[:32]


def deliver(notification_id: int, *, now: dt.datetime | None = None) -> str:
    """Send a notification to whoever has not had it yet; retry later on failure. Safe to
    run twice: a delivery under way holds the row's lock, and a finished one is left alone."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if row is None:
            return "skipped"
        kind = _KINDS.get(row.kind)
        if kind is None:
            row.status, row.last_error = Notification.Status.FAILED, "unknown kind"
            row.save(update_fields=["status", "last_error"])
            return "failed"
        reached = set(row.reached)
        try:
            send = _SENDERS[kind.channel]
            values = kind.values(row.payload)
            for recipient in kind.recipients(row.payload):
                key = _digest(recipient.phone)
                if not recipient.phone or key in reached:
                    continue
                mine = {**values, **recipient.values}
                if kind.personal is not None:
                    mine.update(kind.personal(recipient, row.payload))
                send(recipient.phone, kind.render(mine, recipient.language))
                reached.add(key)
        except Exception as exc:  # the sender or the data failed: keep what was reached, retry later
            row.reached = sorted(reached)
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if row.attempts > len(BACKOFF):
                row.status = Notification.Status.FAILED
                logger.error("notification failed for good", extra={"id": row.pk, "kind": row.kind})
            else:
                row.next_attempt_at = now + BACKOFF[row.attempts - 1]
                deliver_notification.using(run_after=row.next_attempt_at).enqueue(row.pk)
            row.save(update_fields=["reached", "attempts", "last_error", "status", "next_attempt_at"])
            return "retry" if row.status == Notification.Status.PENDING else "failed"
        row.reached = sorted(reached)
        row.status, row.sent_at = Notification.Status.SENT, now
        row.save(update_fields=["reached", "status", "sent_at"])
        return "sent"
