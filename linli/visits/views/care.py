"""Care assignments (包保): the list, handovers, the spreadsheet in and out, ending one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import get_or_404, scope_for
from linli.core.errors import error_response
from linli.core.imports import Queued, import_or_queue
from linli.core.pages import attempt, int_or_none, messages_of
from linli.core.pagination import paginate
from linli.core.sheets import XLSX_TYPE, ImportFailed, SheetRefused, check_upload
from linli.people.capabilities import PeopleCap
from linli.people.models import Person
from linli.places.selectors import access_place, place_crumbs
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.views.common import (
    MAX_ROW_MESSAGES,
    PER_PAGE,
    _back,
    _query,
    _require,
    coverage_place,
)

# --- care assignments ---------------------------------------------------------------------------


@login_required
@require_GET
def care(request: HttpRequest, code: str) -> HttpResponse:
    """The care assignments of a place, the carers with their loads, and handovers."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    scope = scope_for(user)
    carer_id = int_or_none(request.GET.get("carer"))
    assignments = selectors.assignment_list(actor=user, place=place, carer_id=carer_id)
    loads = {
        row["carer_id"]: row
        for row in selectors.assignment_list(actor=user, place=place)
        .order_by()
        .values("carer_id", "carer__name")
        .annotate(n=Count("id"))
    }
    can_manage = scope.allows(VisitCap.MANAGE_CARE, place.path)
    carers = services.carers_of(place) if can_manage else []
    table = [(p.pk, p.name, loads.get(p.pk, {}).get("n", 0)) for p in carers]
    known = {p.pk for p in carers}
    table += [(k, v["carer__name"], v["n"]) for k, v in loads.items() if k not in known]
    table.sort(key=lambda r: (-r[2], r[1]))
    return render(
        request,
        "visits/care.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "page": paginate(request, assignments, per_page=PER_PAGE),
            "query": _query(request),
            "carer_id": carer_id,
            "loads": table,
            "carers": carers,
            "can_manage": can_manage,
            "can_unmask": scope.allows(PeopleCap.UNMASK, place.path),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


@login_required
@require_POST
def care_import(request: HttpRequest, code: str) -> HttpResponse:
    """Care assignments from an XLSX or CSV upload (住户编码 + 包保人手机 or 包保人编号): every row
    is checked first and nothing is written if any is bad; the row errors come back as messages."""
    user: Any = request.user
    place = coverage_place(user, code, VisitCap.MANAGE_CARE)
    back = reverse("visits:care", kwargs={"code": place.code})
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择 XLSX 或 CSV 文件"))
        return redirect(back)
    try:
        check_upload(upload.name or "", upload.size or 0)  # refused before it is read
    except SheetRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    try:
        done = import_or_queue(
            actor=user,
            kind="care",
            data=upload.read(),
            filename=upload.name or "",
            params={"place": place.code, "back": back},
        )
    except ImportFailed as exc:
        for row in exc.row_errors[:MAX_ROW_MESSAGES]:
            messages.error(request, str(row))
        if len(exc.row_errors) > MAX_ROW_MESSAGES:
            messages.error(request, _("另有 %(n)s 行有错误") % {"n": len(exc.row_errors) - MAX_ROW_MESSAGES})
        return redirect(back)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, messages_of(exc) if isinstance(exc, ValidationError) else str(exc))
        return redirect(back)
    if isinstance(done, Queued):  # a large file: the worker imports it, with a progress page
        return redirect("import_job", pk=done.job.pk)
    messages.success(
        request,
        _("已导入：新安排 %(created)s 户，改派 %(updated)s 户，未变 %(unchanged)s 户")
        % {"created": done["created"], "updated": done["updated"], "unchanged": done["unchanged"]},
    )
    return redirect(back)


@login_required
@require_GET
def care_export(request: HttpRequest, code: str) -> HttpResponse:
    """The place's current care assignments as XLSX, in the import's columns (audited)."""
    from linli.visits.care_io import care_export as export_file

    user: Any = request.user
    place = coverage_place(user, code, VisitCap.VIEW_COVERAGE)
    full = request.GET.get("full") == "1"
    try:
        data = export_file(actor=user, place=place, full=full, reason=request.GET.get("reason", ""))
    except ValidationError as exc:
        return error_response(request, 400, messages_of(exc))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="linli-care-{place.code}.xlsx"'
    response.linli_unmasked = full  # type: ignore[attr-defined]
    return response


@login_required
@require_POST
def care_end(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    assignment = get_or_404(selectors.assignment_list(actor=user), pk, "assignment")
    _require(user, VisitCap.MANAGE_CARE, assignment.place_path)
    attempt(
        request,
        lambda: services.care_end(actor=user, assignment=assignment, reason=request.POST.get("reason", "")),
        _("已结束包保"),
    )
    return _back(request, reverse("visits:household", kwargs={"pk": assignment.household_id}))


@login_required
@require_POST
def care_handover(request: HttpRequest, code: str) -> HttpResponse:
    """All of a carer's households to another carer (or to nobody): all or nothing."""
    user: Any = request.user
    place = coverage_place(user, code, VisitCap.MANAGE_CARE)
    back = reverse("visits:care", kwargs={"code": place.code})
    leaving_id, to_id = int_or_none(request.POST.get("carer")), int_or_none(request.POST.get("to"))
    row = selectors.assignment_list(actor=user, place=place, carer_id=leaving_id).first() if leaving_id else None
    if row is None:
        messages.error(request, _("请选择要交接的包保人"))
        return redirect(back)
    to: Person | None = None
    if to_id is not None:
        to = next((p for p in services.carers_of(place) if p.pk == to_id), None)
        if to is None or to.pk == row.carer_id:
            messages.error(request, _("请选择另一位本网格的包保人"))
            return redirect(back)
    moved: list[int] = []

    def run() -> None:
        moved.append(services.carer_handover(actor=user, carer=row.carer, to=to, reason=request.POST.get("reason", "")))

    if attempt(request, run, _("已交接"), refusals=True):
        messages.info(request, _("共 %(n)s 户") % {"n": moved[0]})
    return redirect(back)
