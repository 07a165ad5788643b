"""Visit policies: how often each kind of household is visited, per community."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import scope_for
from linli.core.pages import attempt, messages_of
from linli.core.pagination import paginate
from linli.places.models import PlaceKind
from linli.places.selectors import access_place, community_of, place_crumbs, place_list
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.models import POLICY_TARGETS
from linli.visits.views.common import _query, _require

# --- visit policies -----------------------------------------------------------------------------


@login_required
@require_GET
def policies(request: HttpRequest, code: str) -> HttpResponse:
    """The visit policies a community follows (its own, or the defaults); its secretary edits
    them. Above a community: the communities to choose from."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    try:
        community = community_of(place)
    except ValidationError:
        communities = (
            place_list(actor=user, action=VisitCap.VIEW_COVERAGE, kind=PlaceKind.COMMUNITY)
            .filter(path__startswith=place.path)
            .order_by("path")
        )
        return render(
            request,
            "visits/policies.html",
            {"place": place, "community": None, "page": paginate(request, communities), "query": _query(request)},
        )
    rows = {t: (d, n, own) for t, d, n, own in selectors.policy_list(community=community)}
    table = [(t, label, *rows.get(t, (None, False, False))) for t, label in POLICY_TARGETS]
    return render(
        request,
        "visits/policies.html",
        {
            "place": place,
            "community": community,
            "crumbs": place_crumbs(user, community, VisitCap.VIEW_COVERAGE),
            "table": table,
            "own": any(own for _d, _n, own in rows.values()),
            "can_edit": scope_for(user).allows(VisitCap.MANAGE_VISIT_POLICY, community.path),
            "can_opinions": scope_for(user).allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


@login_required
@require_POST
def policy_set(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    try:
        community = community_of(place)
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return redirect("visits:policies", code=place.code)
    _require(user, VisitCap.MANAGE_VISIT_POLICY, community.path)
    post = request.POST
    attempt(
        request,
        lambda: services.policy_set(
            actor=user,
            community=community,
            target=post.get("target", ""),
            interval_days=post.get("interval_days", ""),  # type: ignore[arg-type]  # the service parses it
            night_only=post.get("night_only") == "1",
            active=post.get("active", "1") == "1",
        ),
        _("走访频次已保存"),
    )
    return redirect("visits:policies", code=community.code)
