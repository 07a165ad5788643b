"""My households (a carer) and one household's visits, carer and out-by-day flag."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import scope_for
from linli.core.pages import attempt, int_or_none
from linli.core.pagination import paginate
from linli.people.capabilities import PeopleCap
from linli.people.selectors import sees_sensitive
from linli.places.selectors import place_crumbs
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.selectors import CoverageRow
from linli.visits.views.common import PER_PAGE, _query, household_to_manage

# --- my households (a carer) --------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A carer's households, the most urgent first; staff go to the coverage of their place."""
    user: Any = request.user
    way_in = selectors.visits_home(user)
    if way_in is None:
        raise PermissionDenied(_("您的角色没有走访任务"))
    places, is_carer = way_in.places, way_in.is_carer
    scope = scope_for(user)
    if not is_carer and len(places) == 1:
        return redirect("visits:coverage", code=places[0].code)
    rows: list[CoverageRow] = []
    late_only = request.GET.get("status") == "late"  # the home page's to-do
    if is_carer:
        rows = selectors.coverage_rows(actor=user, carer_id=scope.person_id)
    late = sum(1 for r in rows if r.status in selectors.LATE)
    if late_only:
        rows = [r for r in rows if r.status in selectors.LATE]
    return render(
        request,
        "visits/home.html",
        {
            "places": places,
            "is_carer": is_carer,
            "page": paginate(request, rows, per_page=PER_PAGE),
            "query": _query(request),
            "log_url": reverse("visits:log"),
            "late": late,
            "late_only": late_only,
            "can_sensitive": all(sees_sensitive(user, r.path) for r in rows),
            "can_people": all(scope.allows(PeopleCap.VIEW_PEOPLE, r.path) for r in rows),
        },
    )


# --- one household ------------------------------------------------------------------------------


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's coverage, carer, visits (notes only for those who may read them) and
    assignment history; out-by-day and the carer are set here."""
    user: Any = request.user
    household, is_carer = selectors.access_household_visits(user, pk)
    scope = scope_for(user)
    path_ = household.place.path
    can_manage = scope.allows(VisitCap.MANAGE_CARE, path_)
    return render(
        request,
        "visits/household.html",
        {
            "household": household,
            "crumbs": place_crumbs(user, household.place, VisitCap.VIEW_COVERAGE),
            "row": selectors.household_coverage(actor=user, household=household),
            "page": paginate(request, selectors.visit_list(actor=user, household=household), per_page=PER_PAGE),
            "query": _query(request),
            "can_notes": is_carer or scope.allows(VisitCap.VIEW_VISITS, path_),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, path_),
            "can_sensitive": sees_sensitive(user, path_),
            "can_manage": can_manage,
            "carers": services.carers_of(household.place) if can_manage else [],
            "history": list(
                selectors.assignment_list(actor=user, place=household.place, active=False).filter(household=household)[
                    :20
                ]
            ),
            "person_id": scope.person_id,
            "log_url": reverse("visits:log") if services.may_log_visit(user, household) else "",
        },
    )


@login_required
@require_POST
def household_out_by_day(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    household = household_to_manage(user, pk)
    out = request.POST.get("out_by_day") == "1"
    attempt(
        request,
        lambda: services.household_care_set(actor=user, household=household, out_by_day=out),
        _("已标记为白天不在家，需夜访") if out else _("已取消白天不在家标记"),
    )
    return redirect("visits:household", pk=household.pk)


@login_required
@require_POST
def household_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    household = household_to_manage(user, pk)
    carer_id = int_or_none(request.POST.get("carer"))
    carer = next((p for p in services.carers_of(household.place) if p.pk == carer_id), None)
    if carer is None:
        messages.error(request, _("请选择本网格的党员中心户或楼栋长"))
    else:
        attempt(
            request,
            lambda: services.care_assign(
                actor=user, household=household, carer=carer, reason=request.POST.get("reason", "")
            ),
            _("已安排包保人"),
        )
    return redirect("visits:household", pk=household.pk)
