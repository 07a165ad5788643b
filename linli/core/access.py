"""The one way code fetches an object named by user input: through a scoped queryset, and a
404 for anything outside it or malformed (Zulip's ``access_*`` helpers), so that an object
outside the actor's scope does not even confirm its existence."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


def get_or_404(queryset: QuerySet[M], pk: Any, what: str) -> M:
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404(f"{what} not found") from exc
    found = queryset.filter(pk=key).first()
    if found is None:
        raise Http404(f"{what} not found")
    return found
