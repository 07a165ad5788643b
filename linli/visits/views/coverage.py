"""The coverage of a place: by child place, by carer, by building; the lists of households
to visit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.core.access import scope_for
from linli.core.pagination import LazyRows, paginate
from linli.people.capabilities import PeopleCap
from linli.people.models import Household
from linli.people.selectors import sees_sensitive
from linli.places.models import PlaceKind
from linli.places.selectors import access_place, place_crumbs
from linli.visits import selectors
from linli.visits.capabilities import VisitCap
from linli.visits.selectors import CoverageRow
from linli.visits.views.common import BUILDING_VIEW_MAX, LISTS, PER_PAGE, PERIODS, _days, _query

# --- coverage of a place -------------------------------------------------------------------------


@login_required
@require_GET
def coverage(request: HttpRequest, code: str) -> HttpResponse:
    """Coverage of a place: per child place, per carer, the households to visit (vulnerable
    first) or a building-by-building view (``?view=buildings``), over ``?days=7|30|90``."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    if place.kind == PlaceKind.HOUSEHOLD:
        household = Household.objects.filter(place=place).first()
        if household is None:
            raise Http404("household not found")
        return redirect("visits:household", pk=household.pk)
    scope = scope_for(user)
    days = _days(request.GET.get("days"))
    now = timezone.now()
    children = selectors.coverage_summary(actor=user, place=place, by="child", now=now, period_days=days)
    total = selectors.coverage_total(place, children)
    carers = selectors.coverage_summary(actor=user, place=place, by="carer", now=now, period_days=days)
    view = "buildings" if request.GET.get("view") == "buildings" else "list"
    shown = request.GET.get("status", "attention")
    if shown not in LISTS:
        shown = "attention"
    too_many = False
    if view == "buildings":
        too_many = total.households > BUILDING_VIEW_MAX
        rows = [] if too_many else selectors.coverage_rows(actor=user, place=place, now=now, period_days=days)
        page = paginate(request, selectors.coverage_by_building(rows), per_page=20)
    else:
        statuses = LISTS[shown]
        status = statuses[0] if len(statuses) == 1 else None
        # ok and none are the tail of the ordered list: skip the households to visit
        skip = selectors.count_in(total, LISTS["attention"]) if shown == "ok" else 0

        def fetch(limit: int, offset: int) -> list[CoverageRow]:
            return selectors.coverage_rows(
                actor=user,
                place=place,
                now=now,
                period_days=days,
                status=None if shown == "ok" else status,
                limit=limit,
                offset=skip + offset,
            )

        page = paginate(request, LazyRows(selectors.count_in(total, statuses), fetch), per_page=PER_PAGE)
    return render(
        request,
        "visits/coverage.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "days": days,
            "periods": PERIODS,
            "total": total,
            "children": [c for c in children if c.place is not None],
            "carers": carers,
            "view": view,
            "shown": shown,
            "lists": [
                ("attention", _("待走访")),
                ("late", _("超期未走访")),
                ("overdue", _("已超期")),
                ("never", _("从未走访")),
                ("due_soon", _("即将到期")),
                ("ok", _("按期")),
                ("all", _("全部")),
            ],
            "page": page,
            "too_many": too_many,
            "query": _query(request),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "can_sensitive": sees_sensitive(user, place.path),
            "can_care": scope.allows(VisitCap.MANAGE_CARE, place.path),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )
