"""Night rounds (夜访): planning one, its households and its visits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import Actor, Role, scope_for
from linli.core.pages import attempt, ints, local_span
from linli.core.pagination import paginate
from linli.people.capabilities import PeopleCap
from linli.people.models import Person
from linli.people.selectors import membership_list, person_list
from linli.places.models import Place
from linli.places.selectors import access_place, place_crumbs
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.views.common import NIGHT_KINDS, PER_PAGE, _query, coverage_place

# --- night rounds -------------------------------------------------------------------------------


def _round_candidates(actor: Actor, place: Place) -> list[Person]:
    """Who may go on a night round of a place: its carers and the staff placed in it, among
    the people the actor may see."""
    ids = {p.pk for p in services.carers_of(place)}
    ids |= {
        m.person_id
        for m in membership_list(actor=actor, place=place).exclude(role__in=(Role.RESIDENT, Role.VOLUNTEER))[:200]
    }
    return list(person_list(actor=actor).filter(pk__in=ids)[:200])


@login_required
@require_GET
def nights(request: HttpRequest, code: str) -> HttpResponse:
    """The night rounds of a place, and a form to schedule one."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    scope = scope_for(user)
    rounds = selectors.night_round_list(actor=user, place=place).annotate(
        planned=Count("households", distinct=True),
        met=Count("visits__household", filter=Q(visits__not_at_home=False), distinct=True),
    )
    can_manage = scope.allows(VisitCap.MANAGE_CARE, place.path) and place.kind in NIGHT_KINDS
    today = timezone.localtime(timezone.now()).date()
    return render(
        request,
        "visits/nights.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "page": paginate(request, rounds, per_page=PER_PAGE),
            "query": _query(request),
            "can_manage": can_manage,
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "candidates": _round_candidates(user, place) if can_manage else [],
            "today": today.isoformat(),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


@login_required
@require_POST
def night_create(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    place = coverage_place(user, code, VisitCap.MANAGE_CARE)
    post = request.POST
    wanted = set(ints(post.getlist("member")))
    members = [p for p in _round_candidates(user, place) if p.pk in wanted]
    made: list[int] = []

    def run() -> None:
        starts_at, ends_at = local_span(post, overnight=True)
        night = services.night_round_create(
            actor=user, place=place, starts_at=starts_at, ends_at=ends_at, members=members, note=post.get("note", "")
        )
        made.append(night.pk)

    if attempt(request, run, _("夜访已安排")):
        return redirect("visits:night", pk=made[0])
    return redirect("visits:nights", code=place.code)


@login_required
@require_GET
def night_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A night round: who goes, the households planned, and which were met during it."""
    user: Any = request.user
    night = selectors.access_night_round(user, pk)
    scope = scope_for(user)
    visited = selectors.night_round_visited(night_round=night)
    households = list(night.households.select_related("place").order_by("place__path"))
    can_notes = scope.allows(VisitCap.VIEW_VISITS, night.place_path)
    return render(
        request,
        "visits/night.html",
        {
            "night": night,
            "crumbs": place_crumbs(user, night.place, VisitCap.VIEW_COVERAGE),
            "members": list(night.members.all()),
            "households": [(h, h.pk in visited) for h in households],
            "met": len(visited & {h.pk for h in households}),
            "extra": len(visited - {h.pk for h in households}),
            "visits": list(selectors.visit_list(actor=user).filter(night_round=night)[:100]) if can_notes else [],
            "can_notes": can_notes,
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, night.place_path),
        },
    )
