"""Home, preferences and the operators' health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.core.imports import access_import_job
from linli.core.middleware import LARGE_TYPE_COOKIE, remember
from linli.core.pages import safe_next
from linli.core.registry import panels, tiles_for, todos_for
from linli.core.tasks import worker_is_fresh


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page of each role: what waits for it (the apps' to-do counts), the tiles the
    apps registered for it (its main action first), and the sections they add (one's roles)."""
    tiles = tiles_for(request.user)
    return render(
        request,
        "core/home.html",
        {
            "todos": todos_for(request.user),
            "big": [t for t in tiles if t.big],
            "work": [t for t in tiles if not t.big and t.section == "work"],
            "more": [t for t in tiles if not t.big and t.section == "more"],
            "panels": panels("home", request),
        },
    )


@require_POST
def large_type(request: HttpRequest) -> HttpResponse:
    """Toggle (or set with ``on=1|0``) the large-type mode; remembered in a cookie."""
    wanted = request.POST.get("on")
    on = (wanted == "1") if wanted in ("0", "1") else not getattr(request, "large_type", False)
    response = HttpResponseRedirect(safe_next(request, "/"))
    remember(response, LARGE_TYPE_COOKIE, "1" if on else "0")
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For operators and load balancers: is the database reachable, is the worker alive?"""
    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        fresh, at = worker_is_fresh()
        checks["worker"] = "ok" if fresh else "stale"
        checks["worker_last_beat"] = at.isoformat() if at else None
    except Exception:
        checks["database"] = "unreachable"
        checks["worker"] = "unknown"
    healthy = checks.get("database") == "ok" and checks.get("worker") == "ok"
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A large import's progress (the page polls itself with htmx until the worker is done),
    then what came of it: the counts, or every row to correct."""
    job = access_import_job(request.user, pk)
    back = str(job.params.get("back") or "")
    context = {"job": job, "back": back if back.startswith("/") and not back.startswith("//") else ""}
    template = "core/_import_job.html" if request.htmx else "core/import_job.html"  # type: ignore[attr-defined]
    return render(request, template, context)
