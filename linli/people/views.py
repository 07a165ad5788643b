"""Pages about people: households and persons (masked), unmasking, profile, audit, roles."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.access import get_or_404, scope_for
from linli.core.pagination import paginate
from linli.people.capabilities import PeopleCap
from linli.people.forms import GrantForm, UnmaskForm
from linli.people.selectors import (
    access_household,
    access_membership,
    access_person,
    audit_list,
    can_see_sensitive,
    can_unmask,
    department_list,
    membership_list,
    my_memberships,
    person_list,
    sees_sensitive,
)
from linli.people.services import membership_grant, membership_revoke, person_unmask
from linli.places.selectors import access_place, place_crumbs


@login_required
def person_index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    people = person_list(actor=request.user, q=q or None)
    return render(request, "people/index.html", {"page": paginate(request, people), "q": q})


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    members = list(household.members.all())
    return render(
        request,
        "people/household.html",
        {
            "household": household,
            "members": members,
            "crumbs": place_crumbs(request.user, household.place, with_self=False),
            "can_unmask": scope_for(request.user).allows(PeopleCap.UNMASK, household.place.path),
            "can_sensitive": sees_sensitive(request.user, household.place.path),
            "unmask_form": UnmaskForm(),
        },
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = access_person(request.user, pk)
    links = list(person.household_links.select_related("household__place"))
    return render(
        request,
        "people/person.html",
        {
            "person": person,
            "links": links,
            "memberships": list(membership_list(actor=request.user, person=person)),
            "crumbs": place_crumbs(request.user, person.place, link_self=True),
            "can_unmask": can_unmask(request.user, person),
            "can_sensitive": can_see_sensitive(request.user, person),
            "unmask_form": UnmaskForm(),
        },
    )


@login_required
@require_POST
def person_unmask_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Unmask one field with a reason. Answers an htmx fragment (or a page without htmx)."""
    person = access_person(request.user, pk)
    form = UnmaskForm(request.POST)
    template = "people/_unmasked.html"
    if not form.is_valid():
        return render(request, template, {"person": person, "form": form, "error": True}, status=400)
    try:
        value = person_unmask(
            actor=request.user, person=person, field=form.cleaned_data["field"], reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        return render(
            request,
            template,
            {"person": person, "form": form, "error": True, "messages_list": exc.messages},
            status=400,
        )
    response = render(request, template, {"person": person, "value": value, "field": form.cleaned_data["field"]})
    response.linli_unmasked = True  # type: ignore[attr-defined]
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    person = getattr(request.user, "person", None)
    return render(
        request,
        "people/profile.html",
        {
            "person": person,
            "memberships": list(my_memberships(actor=request.user)),
        },
    )


@login_required
def audit_index(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.holds_anywhere(PeopleCap.VIEW_AUDIT):
        raise PermissionDenied(_("没有查看审计记录的权限"))
    entries = audit_list(actor=request.user, action=request.GET.get("action") or None)
    return render(request, "people/audit.html", {"page": paginate(request, entries.select_related("place"), 50)})


@login_required
def place_memberships(request: HttpRequest, code: str) -> HttpResponse:
    place = access_place(request.user, code, PeopleCap.VIEW_MEMBERSHIPS)
    scope = scope_for(request.user)
    can_grant = scope.allows(PeopleCap.MANAGE_MEMBERSHIPS, place.path)
    form = GrantForm(request.POST or None)
    status, error = 200, None
    if request.method == "POST":
        if not can_grant:
            raise PermissionDenied(_("没有授予角色的权限"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = access_person(request.user, data["person"])
                department = (
                    get_or_404(department_list(actor=request.user), data["department"], "department")
                    if data.get("department")
                    else None
                )
                membership_grant(
                    actor=request.user,
                    person=person,
                    place=place,
                    role=data["role"],
                    department=department,
                    reason=data.get("reason", ""),
                )
                return redirect("people:place_memberships", place.code)
            except (ValidationError, PermissionDenied) as exc:
                error = "; ".join(getattr(exc, "messages", [str(exc)]))
                status = 400 if isinstance(exc, ValidationError) else 403
        else:
            status = 400
    memberships = membership_list(actor=request.user, place=place)
    return render(
        request,
        "people/memberships.html",
        {
            "place": place,
            "page": paginate(request, memberships),
            "form": form,
            "can_grant": can_grant,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def membership_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = access_membership(request.user, pk)
    membership_revoke(actor=request.user, membership=membership, reason=request.POST.get("reason", ""))
    return redirect("people:place_memberships", membership.place.code)
