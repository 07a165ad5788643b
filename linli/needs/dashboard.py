"""The three-rates dashboard 三率看板: a place's response, on-time response, resolution and
satisfaction rates over a period, their trend, the drill-down to its children, the ranking
of the departments serving it and its overdue open needs; and the same rows exported as a
streamed CSV or an XLSX.

Every number comes from ``needs.rates`` (the roll-ups), so the page costs the same handful
of queries for a grid as for a city. Access: ``view_rates`` at the place (404 outside the
actor's scope, 403 for an actor without the capability anywhere). The page carries every
number in tables; ``static/linli/dashboard.js`` draws the charts from the ``json_script``
data (the CSP allows no inline script).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.core.access import scope_for
from linli.core.audit import audit_record
from linli.core.models import AuditEntry
from linli.core.sheets import XLSX_TYPE, safe_cell
from linli.needs import selectors
from linli.needs.capabilities import NeedCap
from linli.needs.rates import (
    COUNTERS,
    ROLLUP_KINDS,
    Period,
    Rates,
    department_ranking,
    local_day,
    rates_by_child,
    rates_by_period,
    rates_for,
)
from linli.people.models import Department
from linli.places.models import Place
from linli.places.selectors import access_place, place_ancestors

#: Periods longer than this are charted by month, shorter ones by day.
DAILY_UP_TO_DAYS = 62
MAX_PERIOD_DAYS = 3660
OVERDUE_SHOWN = 20
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


class BadInput(ValueError):
    """A query parameter the dashboard cannot use; shown on a 400 page."""


# --- input ------------------------------------------------------------------------------------


def parse_period(params: Any, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """``start``/``end`` (YYYY-MM-DD, inclusive); by default this month so far."""
    try:
        end = dt.date.fromisoformat(params.get("end") or today.isoformat())
        start = dt.date.fromisoformat(params.get("start") or end.replace(day=1).isoformat())
    except ValueError as exc:
        raise BadInput("日期格式应为YYYY-MM-DD / Dates are YYYY-MM-DD") from exc
    if not (_FIRST_YEAR <= start.year <= _LAST_YEAR and _FIRST_YEAR <= end.year <= _LAST_YEAR):
        raise BadInput(f"日期应在{_FIRST_YEAR}—{_LAST_YEAR}年之间 / Dates lie between {_FIRST_YEAR} and {_LAST_YEAR}")
    if start > end:
        raise BadInput("开始日期晚于结束日期 / The start is after the end")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadInput("时间段最长10年 / The period is at most 10 years")
    return start, end


def dashboard_place(actor: Any, code: str) -> Place:
    """The place whose rates the actor asked for: ``code`` if it may view its rates (else
    404), by default the highest place where it may. 403 when it may nowhere."""
    scope = scope_for(actor)
    paths = scope.paths(NeedCap.VIEW_RATES)
    if not (scope.everything or paths):
        raise PermissionDenied(_("您的角色不能查看三率 / Your role cannot view the three rates"))
    if code:
        place = access_place(actor, code, NeedCap.VIEW_RATES)
    else:
        qs = Place.objects.filter(depth=1) if scope.everything else Place.objects.filter(path__in=paths)
        found = qs.order_by("depth", "path").first()
        if found is None:
            raise Http404("place not found")
        place = found
    if place.kind not in ROLLUP_KINDS:
        raise BadInput(
            "三率统计到网格为止，请选择网格或以上地点 / Rates are kept for grids and above: choose one of them"
        )
    return place


# --- the rows ---------------------------------------------------------------------------------


def percent(rate: Decimal | None) -> str:
    """0.9670 → "96.70%"; an undefined rate is a dash, neither 0 % nor 100 %."""
    return "—" if rate is None else f"{rate * 100:.2f}%"


def _number(rate: Decimal | None) -> float | None:
    return None if rate is None else float(round(rate * 100, 2))


RATE_NAMES = ("response_rate", "on_time_response_rate", "resolution_rate", "satisfaction_rate")


@dataclass(frozen=True)
class RateRow:
    """One line of a table: a place or a department with its rates."""

    section: str
    code: str
    name: str
    kind: str
    rates: Rates
    link: str = ""

    @property
    def response(self) -> str:
        return percent(self.rates.response_rate)

    @property
    def on_time(self) -> str:
        return percent(self.rates.on_time_response_rate)

    @property
    def resolution(self) -> str:
        return percent(self.rates.resolution_rate)

    @property
    def satisfaction(self) -> str:
        return percent(self.rates.satisfaction_rate)

    def numbers(self) -> dict[str, float | None]:
        return {name: _number(getattr(self.rates, name)) for name in RATE_NAMES}


def _rank_key(rates: Rates) -> tuple[Decimal, ...]:
    # highest satisfaction first, then resolution, response, on-time; undefined rates last
    order = (rates.satisfaction_rate, rates.resolution_rate, rates.response_rate, rates.on_time_response_rate)
    return tuple(-rate if rate is not None else Decimal(1) for rate in order)


def child_rows(place: Place, start: dt.date, end: dt.date) -> list[RateRow]:
    """The children of ``place`` (two queries), best satisfaction first, each linking to
    its own dashboard over the same period."""
    base = reverse("needs:dashboard")
    period = {"start": start.isoformat(), "end": end.isoformat()}
    section = _("下级")
    rows = [
        RateRow(
            section=section,
            code=child.code,
            name=child.name,
            kind=child.get_kind_display(),
            rates=rates,
            link=f"{base}?{urlencode({'place': child.code, **period})}",
        )
        for child, rates in rates_by_child(parent=place, start=start, end=end)
    ]
    order = {row.code: n for n, row in enumerate(rows)}  # tree order breaks ties
    return sorted(rows, key=lambda row: (*_rank_key(row.rates), order[row.code]))


def department_rows(place: Place, ancestors: Sequence[Place], start: dt.date, end: dt.date) -> list[RateRow]:
    """The departments placed at the place, above it, or inside its subtree, ranked (two
    queries). A department's rates are all of its work, not only this place's."""
    departments = Department.objects.filter(
        Q(place__in=[a.pk for a in ancestors]) | Q(place__path__startswith=place.path)
    ).order_by("code")
    section = _("部门")
    return [
        RateRow(section=section, code=d.code, name=d.name, kind=d.get_kind_display(), rates=rates)
        for d, rates in department_ranking(start=start, end=end, departments=departments)
    ]


def _period_kind(start: dt.date, end: dt.date) -> Period:
    return "day" if (end - start).days < DAILY_UP_TO_DAYS else "month"


# --- the page ---------------------------------------------------------------------------------


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "needs/dashboard.html", {"error": message, "params": request.GET}, status=400)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """三率看板 of one place: ``?place=CODE&start=YYYY-MM-DD&end=YYYY-MM-DD``."""
    try:
        place = dashboard_place(request.user, request.GET.get("place", "").strip())
        start, end = parse_period(request.GET, today=local_day(timezone.now()))
    except BadInput as exc:
        return _bad_request(request, str(exc))
    scope = scope_for(request.user)
    ancestors = place_ancestors(place)
    period_query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    total = rates_for(place=place, start=start, end=end)
    kind = _period_kind(start, end)
    trend = [
        (when.strftime("%Y-%m" if kind == "month" else "%m-%d"), RateRow("", "", "", "", rates))
        for when, rates in rates_by_period(place=place, start=start, end=end, period=kind)
    ]
    children = child_rows(place, start, end)
    departments = department_rows(place, ancestors, start, end)
    overdue = selectors.need_list(actor=request.user, overdue=True, place=place).order_by("resolution_due", "id")
    overdue_shown = list(overdue[:OVERDUE_SHOWN])
    overdue_count = overdue.count()
    rate_labels = {
        "response_rate": _("响应率"),
        "on_time_response_rate": _("按时响应率"),
        "resolution_rate": _("解决率"),
        "satisfaction_rate": _("满意率"),
    }
    chart = {
        "labels": rate_labels,
        "trend": {"x": [label for label, _row in trend], "series": [row.numbers() for _label, row in trend]},
        "children": {"x": [row.name for row in children], "series": [row.numbers() for row in children]},
        "titles": {"trend": _("三率趋势"), "children": _("下级三率对比")},
    }
    return render(
        request,
        "needs/dashboard.html",
        {
            "place": place,
            "crumbs": [(a, a.pk != place.pk and scope.allows(NeedCap.VIEW_RATES, a.path)) for a in ancestors],
            "start": start,
            "end": end,
            "period_query": period_query,
            "total": RateRow("", place.code, place.name, place.get_kind_display(), total),
            "trend": trend,
            "trend_by": kind,
            "children": children,
            "departments": departments,
            "overdue": overdue_shown,
            "overdue_count": overdue_count,
            "chart": chart,
            "now": timezone.now(),
        },
    )


# --- the export -------------------------------------------------------------------------------

EXPORT_HEADER = [
    "分组 / section",
    "编码 / code",
    "名称 / name",
    "类型 / kind",
    "受理量 / received",
    "响应量 / responded",
    "按时响应 / on time",
    "办结 / resolved",
    "回访 / followed up",
    "评价已解决 / rated resolved",
    "满意 / satisfied",
    "基本满意 / basically satisfied",
    "不满意 / unsatisfied",
    "超期 / overdue",
    "响应率% / response rate %",
    "按时响应率% / on-time response rate %",
    "解决率% / resolution rate %",
    "满意率% / satisfaction rate %",
]


def export_cells(row: RateRow) -> list[Any]:
    """One line of the export: texts, the ten counters, the four rates in percent (blank
    when undefined)."""
    rates = row.rates
    return [
        safe_cell(row.section),
        safe_cell(row.code),
        safe_cell(row.name),
        safe_cell(row.kind),
        *(getattr(rates, c) for c in COUNTERS),
        *(_number(getattr(rates, name)) for name in RATE_NAMES),
    ]


class _Echo:
    """A file-like object whose ``write`` hands the line back (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Sequence[RateRow]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_HEADER)  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow(["" if cell is None else cell for cell in export_cells(row)])


def _xlsx_file(rows: Sequence[RateRow]) -> Any:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("三率")
    sheet.append(EXPORT_HEADER)
    for row in rows:
        sheet.append(export_cells(row))
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FileResponse)
    workbook.save(handle)
    handle.seek(0)
    return handle


@login_required
@require_GET
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The children and department rows of the dashboard as CSV (streamed, with a BOM) or
    XLSX; every export is audited."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("unknown format")
    try:
        place = dashboard_place(request.user, request.GET.get("place", "").strip())
        start, end = parse_period(request.GET, today=local_day(timezone.now()))
    except BadInput as exc:
        return _bad_request(request, str(exc))
    rows = [*child_rows(place, start, end), *department_rows(place, place_ancestors(place), start, end)]
    audit_record(
        actor=request.user,
        action=AuditEntry.Action.EXPORT,
        target=place,
        place=place,
        reason="三率看板导出 / rates dashboard export",
        changes={"format": fmt, "start": start.isoformat(), "end": end.isoformat(), "rows": len(rows)},
    )
    filename = f"linli-rates-{place.code}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(_xlsx_file(rows), as_attachment=True, filename=filename, content_type=XLSX_TYPE)
