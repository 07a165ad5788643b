"""Writing the audit trail. Called by services inside their transaction, or through
``record_regardless`` for what must stay written when the transaction rolls back."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse

from linli.core.access import Actor, actor_name, user_of
from linli.core.models import AuditEntry


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model,
    place: Any = None,
    reason: str = "",
    field: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    actor_obj = user_of(actor)
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_name=actor_name(actor),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        place=place,
        place_path=getattr(place, "path", "") or "",
        field=field,
        reason=reason,
        changes=changes or {},
    )


def audit_export(
    *,
    actor: Actor,
    target: models.Model,
    place: Any,
    what: str,
    rows: int,
    full: bool = False,
    reason: str = "",
    **changes: Any,
) -> AuditEntry:
    """The audit entry of a file that left the system: what (``what``: "places",
    "care_assignments", …), how many rows, masked or in full and why. Written by the service
    that builds the file, whatever page or command asked for it."""
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        target=target,
        place=place,
        reason=reason,
        field="full" if full else "masked",
        changes={"kind": what, "rows": rows, "masked": not full, **changes},
    )


def audit_import(
    *, actor: Actor, target: models.Model, place: Any, what: str, filename: str, reason: str = "", **changes: Any
) -> AuditEntry:
    """The audit entry of a file read into the system (written in the import's transaction:
    an import that fails leaves none, and nothing else either)."""
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        target=target,
        place=place,
        reason=reason or filename[:200],
        changes={"kind": what, "file": filename[:200], **changes},
    )


#: What must be recorded even if the request's transaction rolls back (a refused write's
#: audit entry, a count against a limit): kept per request and written after the response.
_REGARDLESS: ContextVar[list[Callable[[], Any]] | None] = ContextVar("linli_record_regardless", default=None)


def record_regardless(write: Callable[[], Any]) -> None:
    """Run ``write`` so that it stays written even when the transaction around the caller
    rolls back (a service that refuses with an exception rolls back what it wrote, and an
    API view may hold a transaction of its own, such as ``idempotent``). Outside any
    transaction it runs at once; inside one, during a request, it runs once the response is
    ready (``RecordRegardlessMiddleware``); elsewhere (the command line) it runs at once."""
    pending = _REGARDLESS.get()
    if pending is not None and connection.in_atomic_block:
        pending.append(write)
        return
    with transaction.atomic():
        write()


class RecordRegardlessMiddleware:
    """Writes what services asked to keep whatever their transaction did, after the view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _REGARDLESS.set([])
        try:
            response = self.get_response(request)
            pending = _REGARDLESS.get() or []
        finally:
            _REGARDLESS.reset(token)
        for write in pending:
            with transaction.atomic():
                write()
        return response
