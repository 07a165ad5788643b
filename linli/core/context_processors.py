from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.core.access import scope_for
from linli.core.registry import nav_for


def preferences(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    scope = scope_for(user) if user is not None else None
    return {
        "large_type": getattr(request, "large_type", False),
        "scope": scope,
        "is_staff_role": bool(scope and scope.is_staff_role),
        # the main menu's tabs, as the apps registered them (computed when a page shows them)
        "nav_links": lambda: nav_for(user) if user is not None else [],
    }
