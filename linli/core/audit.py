"""Writing the audit trail. Called by services inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from linli.core.models import AuditEntry


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    place: Any = None,
    reason: str = "",
    field: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_name=str(actor_obj) if actor_obj else "system",
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
