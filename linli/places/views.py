"""Pages of the place tree: browse from the actor's top places down to households."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.core.access import scope_for
from linli.core.imports import Queued, import_or_queue
from linli.core.pagination import paginate
from linli.core.registry import panels, place_redirect
from linli.core.sheets import XLSX_TYPE
from linli.places.capabilities import PlaceCap
from linli.places.forms import PlaceImportForm
from linli.places.selectors import access_place, place_crumbs, place_list, place_roots, with_counts
from linli.places.services import place_export_xlsx


@login_required
def place_index(request: HttpRequest) -> HttpResponse:
    roots = with_counts(place_roots(actor=request.user))
    q = request.GET.get("q", "").strip()
    results = with_counts(place_list(actor=request.user, q=q)) if q else None
    return render(
        request,
        "places/index.html",
        {
            "page": paginate(request, results if results is not None else roots),
            "q": q,
        },
    )


@login_required
def place_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A place, its children with their figures, and the sections other apps add (the
    people of a building); a place another app shows better is sent there (a household)."""
    place = access_place(request.user, code)
    if elsewhere := place_redirect(request, place):
        return redirect(elsewhere)
    scope = scope_for(request.user)
    children = with_counts(place_list(actor=request.user, parent=place))
    context = {
        "place": place,
        "crumbs": place_crumbs(request.user, place, with_self=False),
        "page": paginate(request, children),
        "can_manage_places": scope.allows(PlaceCap.MANAGE_PLACES, place.path),
        "panels": panels("place", request, place),
    }
    return render(request, "places/detail.html", context)


@login_required
def place_export(request: HttpRequest, code: str) -> HttpResponse:
    place = access_place(request.user, code, PlaceCap.MANAGE_PLACES)
    data = place_export_xlsx(actor=request.user, root=place)
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="places-{place.code}.xlsx"'
    return response


@login_required
def place_import_view(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.holds_anywhere(PlaceCap.MANAGE_PLACES):
        raise PermissionDenied(_("没有导入地点的权限"))
    form = PlaceImportForm(request.POST or None, request.FILES or None)
    result: dict[str, int] | None = None
    errors: list[str] | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                done = import_or_queue(
                    actor=request.user,
                    kind="places",
                    data=upload.read(),
                    filename=upload.name,
                    params={"back": reverse("places:import")},
                )
            except ValidationError as exc:
                errors, status = [str(m) for m in exc.messages], 400
            else:
                if isinstance(done, Queued):  # a large file: the worker imports it
                    return redirect("import_job", pk=done.job.pk)
                result = done
        else:
            status = 400
    return render(request, "places/import.html", {"form": form, "result": result, "errors": errors}, status=status)
