"""The timeline kernel: one way for a service to record what happened to a thing it owns.

An app that keeps a timeline declares an event model on :class:`TimelineEvent` (who, when,
what kind, a note, data, the place's path; append-only in the database) with a foreign key
to its subject, and registers it from its ``AppConfig.ready``::

    register_timeline(Need, NeedEvent, field="need", kinds=EventKind, after=[rollup_event])

Its services then write every step through :func:`record_event`, inside their transaction;
a kind that the app did not register is a programming error and raises. Each app keeps its
events in a table of its own (indexed for its own reports: the needs' rates read millions of
need events by kind and day), all with the same columns and the same writer. Reads of
personal data, imports and exports go to the audit trail (``core.audit``) instead, and row
history stays with pghistory. See ``docs/decisions/0006-one-timeline.md``.

A timeline shown to someone names who took each step as its reader understands it
(:func:`name_actors`): 我 for the reader's own steps, 系统 for the worker's sweeps, else the
role the account holds at the subject's place and its person's masked name (居民 张*, 网格员
李*), which the people app gives through :func:`register_account_namer`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

from linli.core.access import SYSTEM, Actor, Role, account_id, actor_name, user_of


class TimelineEvent(models.Model):
    """One step in the life of a subject. Concrete event models add the foreign key to their
    subject (and any columns of their own) and an append-only trigger."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    place_path = models.CharField(max_length=255)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


@dataclass(frozen=True)
class Timeline:
    subject: type[models.Model]
    event: type[TimelineEvent]
    field: str
    kinds: frozenset[str]
    after: tuple[Callable[[Any], None], ...] = ()


_TIMELINES: dict[type[models.Model], Timeline] = {}


def register_timeline(
    subject: type[models.Model],
    event: type[TimelineEvent],
    *,
    field: str,
    kinds: Iterable[Any],
    after: Iterable[Callable[[Any], None]] = (),
) -> None:
    """Declare ``subject``'s timeline: its event model, the event's foreign key to the subject,
    the kinds of event (a ``TextChoices`` or any iterable of values) and what runs after each
    event is written, in the same transaction (a rollup). Registering twice is harmless."""
    values = frozenset(str(getattr(kind, "value", kind)) for kind in kinds)
    _TIMELINES[subject] = Timeline(subject, event, field, values, tuple(after))


def timeline_for(subject: type[models.Model] | models.Model) -> Timeline:
    model = subject if isinstance(subject, type) else type(subject)
    model = model._meta.concrete_model or model
    try:
        return _TIMELINES[model]
    except KeyError:
        raise LookupError(f"{model._meta.label} has no registered timeline") from None


def record_event(
    subject: models.Model,
    kind: str,
    *,
    actor: Actor,
    at: dt.datetime | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> TimelineEvent:
    """Write one event on ``subject``'s timeline, by ``actor`` (``SYSTEM`` for the sweeps),
    then run the timeline's hooks. Call it inside the service's transaction: the event and
    the change it records commit together or not at all. ``fields`` are the event model's
    own columns."""
    timeline = timeline_for(subject)
    if str(kind) not in timeline.kinds:
        raise ValueError(f"{kind!r} is not a registered kind of {timeline.event._meta.label}")
    account = user_of(actor)
    event = timeline.event._default_manager.create(
        **{timeline.field: subject},
        kind=kind,
        at=at or timezone.now(),
        actor=account,
        actor_name=actor_name(actor),
        note=note,
        data=data or {},
        place_path=getattr(subject, "place_path", "") or "",
        **fields,
    )
    for hook in timeline.after:
        hook(event)
    return event


def timeline_of(subject: models.Model) -> models.QuerySet[Any]:
    """The events of one subject, oldest first."""
    timeline = timeline_for(subject)
    return timeline.event._default_manager.filter(**{timeline.field: subject}).order_by("at", "id")


# --- who acted, as the reader understands it ----------------------------------------------------

#: Who the accounts that took steps are: (account id → the name kept on its events, the
#: subject's place path) → account id → (the role it holds there, a ``Role`` value or "", and
#: its masked name). Registered by the app that knows people (``people``).
AccountNamer = Callable[[Mapping[int, str], str], dict[int, tuple[str, str]]]
_NAMERS: list[AccountNamer] = []

#: A step taken by the system on someone's behalf (a rating sent from an SMS link): that
#: someone's (account id or None, role, masked name), or None for the system's own step.
OnBehalf = Callable[[Any], tuple[int | None, str, str] | None]


def register_account_namer(namer: AccountNamer) -> None:
    if namer not in _NAMERS:
        _NAMERS.append(namer)


def actor_label(*, account: int | None, role: str, name: str, reader: int | None) -> str:
    """我 for the reader's own step, else the role and the (already masked) name: 网格员 李*."""
    if account is not None and account == reader:
        return gettext("我")
    role_label = str(Role(role).label) if role in Role.values else ""
    return " ".join(part for part in (role_label, name) if part) or gettext("已注销的账户")


def name_actors(
    events: Sequence[TimelineEvent], *, reader: Actor, path: str, on_behalf: OnBehalf | None = None
) -> None:
    """Set ``actor_label`` on each event of a timeline shown to ``reader``: who took the step
    as the reader understands it (see the module's docstring). ``path`` is the subject's place;
    ``on_behalf`` names who a system step stood in for. A fixed number of queries."""
    reader_id = account_id(reader) if reader is not SYSTEM else None
    accounts = {e.actor_id: e.actor_name for e in events if e.actor_id is not None}
    named: dict[int, tuple[str, str]] = {}
    for namer in _NAMERS:
        named.update(namer(accounts, path) if accounts else {})
    system = actor_name(SYSTEM)
    for event in events:
        account: int | None = event.actor_id
        stand_in = on_behalf(event) if on_behalf is not None and account is None else None
        if stand_in is not None:
            account, role, name = stand_in
        elif account is None:
            event.actor_label = gettext("系统") if event.actor_name == system else gettext("已注销的账户")  # type: ignore[attr-defined]
            continue
        else:
            role, name = named.get(account, ("", ""))
        event.actor_label = actor_label(account=account, role=role, name=name, reader=reader_id)  # type: ignore[attr-defined]
