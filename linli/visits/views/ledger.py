"""The monthly visits ledger 走访台账 as a download: ``visits:ledger`` at
``visits/ledger/<code>/<year>-<month>.<xlsx|pdf>``.

Access: ``view_visits`` at the community (404 outside everything the actor sees, 403 inside it
without the right); ``?full=1`` (clear names and notes) also needs ``unmask`` there and a
``reason``. A month still to come is a 400. Every export is audited, saying whether it was
masked or full, and why.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.core.errors import error_response
from linli.core.pages import messages_of
from linli.core.sheets import XLSX_TYPE
from linli.people.services import export_unmask
from linli.visits.ledger import (
    FORMATS,
    LEDGER_PLACE_KINDS,
    BadMonth,
    ledger_community,
    ledger_export,
    ledger_month,
    may_unmask,
)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return error_response(request, 400, message)


@login_required
@require_GET
def ledger(request: HttpRequest, code: str, year: int, month: int, fmt: str) -> HttpResponseBase:
    """One community's ledger of one month, as XLSX or PDF; ``?full=1`` unmasked."""
    if fmt not in FORMATS:
        raise Http404("unknown format")
    community = ledger_community(request.user, code)
    full = request.GET.get("full") == "1"
    if full and not may_unmask(request.user, community):
        raise PermissionDenied(_("您的角色不能导出未脱敏的台账"))
    try:
        reason = export_unmask(actor=request.user, place=community, full=full, reason=request.GET.get("reason", ""))
    except ValidationError as exc:
        return _bad_request(request, messages_of(exc))
    if community.kind not in LEDGER_PLACE_KINDS:
        return _bad_request(request, _("台账按社区(村)生成，请选择社区"))
    now = timezone.now()
    try:
        when = ledger_month(year, month, now=now)
    except BadMonth as exc:
        return _bad_request(request, str(exc))
    _book, content = ledger_export(
        actor=request.user, community=community, month=when, full=full, reason=reason, fmt=fmt, now=now
    )
    filename = f"linli-visits-{community.code}-{when.key}.{fmt}"
    response: HttpResponseBase
    if fmt == "xlsx":
        response = FileResponse(content, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    else:
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.linli_unmasked = full  # type: ignore[union-attr]
    return response


urlpatterns: list[URLPattern] = [
    path("visits/ledger/<str:code>/<int:year>-<int:month>.<str:fmt>", ledger, name="ledger"),
]
