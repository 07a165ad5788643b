"""The opinions heard on the doorstep, and a visit's photo."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import scope_for
from linli.core.pages import attempt
from linli.core.pagination import paginate
from linli.places.selectors import access_place, place_crumbs
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.models import OpinionStatus
from linli.visits.views.common import PER_PAGE, _back, _query, _require

# --- opinions heard -----------------------------------------------------------------------------


@login_required
@require_GET
def opinions(request: HttpRequest, code: str) -> HttpResponse:
    """Opinions heard on visits in a place; the secretary marks them as a meeting topic or
    answered."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_VISITS)
    scope = scope_for(user)
    status = request.GET.get("status", "")
    if status not in OpinionStatus.values:
        status = ""
    page = paginate(request, selectors.opinion_list(actor=user, place=place, status=status or None), PER_PAGE)
    decidable = {op.pk for op in page if scope.allows(VisitCap.MANAGE_VISIT_POLICY, op.place_path)}
    return render(
        request,
        "visits/opinions.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, VisitCap.VIEW_VISITS),
            "page": page,
            "query": _query(request),
            "status": status,
            "statuses": OpinionStatus.choices,
            "decidable": decidable,
        },
    )


@login_required
@require_POST
def opinion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    opinion = selectors.access_opinion(user, pk)
    _require(user, VisitCap.MANAGE_VISIT_POLICY, opinion.place_path)
    attempt(
        request,
        lambda: services.opinion_decide(
            actor=user, opinion=opinion, status=request.POST.get("status", ""), note=request.POST.get("note", "")
        ),
        _("已处理"),
    )
    return _back(request, reverse("visits:opinions", kwargs={"code": opinion.community.code}))


@login_required
@require_GET
def visit_photo(request: HttpRequest, pk: int) -> FileResponse:
    """The photo of a visit, for whoever may read the visit's notes (photos are not public media)."""
    visit = selectors.access_visit(request.user, pk)
    if not visit.photo:
        raise Http404("photo not found")
    content_type = "image/png" if visit.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(visit.photo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
