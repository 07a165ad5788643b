"""The three-rates dashboard 三率看板: a place's response, on-time response, resolution and
satisfaction rates over a period, their trend, the drill-down to its children, the ranking
of the departments that worked for it and the needs behind its 超期 counter; and the same
rows exported as a streamed CSV or an XLSX.

Every number comes from ``needs.rates`` (the roll-ups) and the list from the selector that
defines the same set (``selectors.overdue_received_list``), gathered by
:func:`dashboard_figures`, so the page costs the same handful of queries for a grid as for a
city, and a figure means the same wherever it is shown: a need counts on the day and at the
place it was received (``docs/rates.md``). Access: ``view_rates`` at the place (404 outside the
actor's scope, 403 for an actor without the capability anywhere). The page carries every
number in tables; ``static/linli/dashboard.js`` draws the charts from the ``json_script``
data (the CSP allows no inline script).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.core.access import Actor, scope_for
from linli.core.audit import audit_export
from linli.core.registry import metrics_for
from linli.core.sheets import XLSX_TYPE, Sheet, csv_lines, xlsx_file
from linli.needs import selectors
from linli.needs.capabilities import NeedCap
from linli.needs.models import Need
from linli.needs.rates import (
    COUNTERS,
    ROLLUP_KINDS,
    Period,
    Rates,
    department_ranking,
    local_day,
    rank_key,
    rates_by_child,
    rates_by_period,
    rates_for,
)
from linli.people.models import Department
from linli.places.models import Place
from linli.places.selectors import access_place, place_ancestors, places_rooted

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
        raise BadInput(_("日期格式应为YYYY-MM-DD")) from exc
    if not (_FIRST_YEAR <= start.year <= _LAST_YEAR and _FIRST_YEAR <= end.year <= _LAST_YEAR):
        raise BadInput(
            _("日期应在%(_FIRST_YEAR)s—%(_LAST_YEAR)s年之间") % {"_FIRST_YEAR": _FIRST_YEAR, "_LAST_YEAR": _LAST_YEAR}
        )
    if start > end:
        raise BadInput(_("开始日期晚于结束日期"))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadInput(_("时间段最长10年"))
    return start, end


def dashboard_place(actor: Actor, code: str) -> Place:
    """The place whose rates the actor asked for: ``code`` if it may view its rates (else
    404), by default the highest place where it may. 403 when it may nowhere."""
    if not scope_for(actor).holds_anywhere(NeedCap.VIEW_RATES):
        raise PermissionDenied(_("您的角色不能查看三率"))
    if code:
        place = access_place(actor, code, NeedCap.VIEW_RATES)
    else:
        found = places_rooted(actor, NeedCap.VIEW_RATES).order_by("depth", "path").first()
        if found is None:
            raise Http404("place not found")
        place = found
    if place.kind not in ROLLUP_KINDS:
        raise BadInput(_("三率统计到网格为止，请选择网格或以上地点"))
    return place


# --- the rows ---------------------------------------------------------------------------------


def percent(rate: Decimal | None) -> str:
    """0.9670 → "96.70%"; an undefined rate is a dash, neither 0 % nor 100 %."""
    return "—" if rate is None else f"{rate * 100:.2f}%"


def percent_of(value: float | None) -> str:
    """A metric's share (0–1) as the dashboard shows rates."""
    return "—" if value is None else f"{value * 100:.1f}%"


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


def child_rows(place: Place, start: dt.date, end: dt.date) -> list[RateRow]:
    """The children of ``place`` (two queries), ranked (``rates.rank_key``: those without
    anything received last), each linking to its own dashboard over the same period."""
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
    return sorted(rows, key=lambda row: (*rank_key(row.rates), order[row.code]))


def department_rows(place: Place, ancestors: Sequence[Place], start: dt.date, end: dt.date) -> list[RateRow]:
    """The departments placed at the place, above it or inside its subtree, and any other
    that worked for the needs received there, with their rates for those needs only over
    the period; ranked, those with nothing whistled to them last (two queries)."""
    departments = Department.objects.filter(
        Q(place__in=[a.pk for a in ancestors]) | Q(place__path__startswith=place.path)
    ).order_by("code")
    section = _("部门")
    return [
        RateRow(section=section, code=d.code, name=d.name, kind=d.get_kind_display(), rates=rates)
        for d, rates in department_ranking(start=start, end=end, place=place, departments=departments)
    ]


def _period_kind(start: dt.date, end: dt.date) -> Period:
    return "day" if (end - start).days < DAILY_UP_TO_DAYS else "month"


@dataclass(frozen=True)
class QuickPeriod:
    """A link beside the date fields: this month, quarter or year so far (Asia/Shanghai)."""

    key: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def query(self) -> str:
        return urlencode({"start": self.start.isoformat(), "end": self.end.isoformat()})


def quick_periods(today: dt.date) -> list[QuickPeriod]:
    """本月, 本季度, 本年: from the first day of the month, quarter or year to ``today`` (the
    local day, ``rates.local_day``), as the default period is this month so far."""
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return [
        QuickPeriod("month", _("本月"), today.replace(day=1), today),
        QuickPeriod("quarter", _("本季度"), quarter, today),
        QuickPeriod("year", _("本年"), today.replace(month=1, day=1), today),
    ]


@dataclass(frozen=True)
class Figures:
    """Every number of one dashboard, each from one selector: the place's total and its
    series (``rates``, place rows), its children, the departments that worked for it and
    the needs behind its 超期 counter. The trend adds up to the total, and the overdue list
    is what the total's ``overdue`` counts."""

    place: Place
    ancestors: list[Place]
    start: dt.date
    end: dt.date
    total: RateRow
    trend_by: Period
    trend: list[tuple[str, RateRow]]
    children: list[RateRow]
    departments: list[RateRow]
    overdue: QuerySet[Need]

    @property
    def charted(self) -> list[RateRow]:
        """The children the chart compares: those with something to show."""
        return [row for row in self.children if not row.rates.empty]

    @property
    def ranked_departments(self) -> list[RateRow]:
        return [row for row in self.departments if row.rates.received > 0]

    @property
    def idle_departments(self) -> list[RateRow]:
        """无派单: nothing whistled to them from this place in this period."""
        return [row for row in self.departments if row.rates.received <= 0]


def dashboard_figures(*, actor: Actor, place: Place, start: dt.date, end: dt.date) -> Figures:
    """The figures of the dashboard of ``place`` (which the caller got through
    ``dashboard_place``) over the days ``start``–``end``, in a fixed number of queries."""
    kind = _period_kind(start, end)
    trend = [
        (when.strftime("%Y-%m" if kind == "month" else "%m-%d"), RateRow("", "", "", "", rates))
        for when, rates in rates_by_period(place=place, start=start, end=end, period=kind)
    ]
    ancestors = place_ancestors(place)
    return Figures(
        place=place,
        ancestors=ancestors,
        start=start,
        end=end,
        total=RateRow(
            "", place.code, place.name, place.get_kind_display(), rates_for(place=place, start=start, end=end)
        ),
        trend_by=kind,
        trend=trend,
        children=child_rows(place, start, end),
        departments=department_rows(place, ancestors, start, end),
        overdue=selectors.overdue_received_list(actor=actor, place=place, start=start, end=end),
    )


# --- the page ---------------------------------------------------------------------------------


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "needs/dashboard.html", {"error": message, "params": request.GET}, status=400)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """三率看板 of one place: ``?place=CODE&start=YYYY-MM-DD&end=YYYY-MM-DD``."""
    today = local_day(timezone.now())
    try:
        place = dashboard_place(request.user, request.GET.get("place", "").strip())
        start, end = parse_period(request.GET, today=today)
    except BadInput as exc:
        return _bad_request(request, str(exc))
    scope = scope_for(request.user)
    figures = dashboard_figures(actor=request.user, place=place, start=start, end=end)
    children = figures.children
    # what the other apps measure of the same children (the visits' coverage, …)
    metrics = [(m, m.compute(request.user, place, start, end)) for m in metrics_for(request.user, place)]
    metric_rows = (
        [(row, [percent_of(values.get(row.code)) for _metric, values in metrics]) for row in children]
        if metrics
        else []
    )
    overdue_shown = list(figures.overdue[:OVERDUE_SHOWN])
    overdue_count = figures.overdue.count()
    rate_labels = {
        "response_rate": _("响应率"),
        "on_time_response_rate": _("按时响应率"),
        "resolution_rate": _("解决率"),
        "satisfaction_rate": _("满意率"),
    }
    charted = figures.charted
    chart = {
        "labels": rate_labels,
        "trend": {
            "x": [label for label, _row in figures.trend],
            "series": [row.numbers() for _label, row in figures.trend],
        },
        "children": {"x": [row.name for row in charted], "series": [row.numbers() for row in charted]},
        "titles": {"trend": _("三率趋势"), "children": _("下级三率对比")},
    }
    return render(
        request,
        "needs/dashboard.html",
        {
            "place": place,
            "crumbs": [(a, a.pk != place.pk and scope.allows(NeedCap.VIEW_RATES, a.path)) for a in figures.ancestors],
            "start": start,
            "end": end,
            "period_query": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
            "quick_periods": [(q, (q.start, q.end) == (start, end)) for q in quick_periods(today)],
            "total": figures.total,
            "trend": figures.trend,
            "trend_by": figures.trend_by,
            "children": children,
            "charted": len(charted),
            "uncharted": len(children) - len(charted),
            "metrics": [m for m, _values in metrics],
            "metric_rows": metric_rows,
            "departments": figures.ranked_departments,
            "idle_departments": figures.idle_departments,
            "overdue": overdue_shown,
            "overdue_count": overdue_count,
            "chart": chart,
            "now": timezone.now(),
        },
    )


# --- the export -------------------------------------------------------------------------------


def export_header() -> list[str]:
    """The export's columns, in the reader's language."""
    return [
        _("分组"),
        _("编码"),
        _("名称"),
        _("类型"),
        _("受理量"),
        _("响应量"),
        _("按时响应"),
        _("办结"),
        _("回访"),
        _("评价已解决"),
        _("满意"),
        _("基本满意"),
        _("不满意"),
        _("超期"),
        _("响应率%"),
        _("按时响应率%"),
        _("解决率%"),
        _("满意率%"),
    ]


def export_cells(row: RateRow) -> list[Any]:
    """One line of the export: texts, the ten counters, the four rates in percent (blank
    when undefined)."""
    rates = row.rates
    return [
        row.section,
        row.code,
        row.name,
        row.kind,
        *(getattr(rates, c) for c in COUNTERS),
        *(_number(getattr(rates, name)) for name in RATE_NAMES),
    ]


def rates_export(*, actor: Actor, place: Place, start: dt.date, end: dt.date, fmt: str) -> Any:
    """The children and department rows of the dashboard of ``place`` (which the caller got
    through ``dashboard_place``) as CSV lines to stream or an XLSX file; audited."""
    rows = [*child_rows(place, start, end), *department_rows(place, place_ancestors(place), start, end)]
    audit_export(
        actor=actor,
        target=place,
        place=place,
        what="rates",
        rows=len(rows),
        format=fmt,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    sheet = Sheet(_("三率"), export_header(), [export_cells(row) for row in rows])
    return csv_lines(sheet) if fmt == "csv" else xlsx_file(sheet)


@login_required
@require_GET
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The dashboard's rows as CSV (streamed, with a BOM) or XLSX; every export is audited."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("unknown format")
    try:
        place = dashboard_place(request.user, request.GET.get("place", "").strip())
        start, end = parse_period(request.GET, today=local_day(timezone.now()))
    except BadInput as exc:
        return _bad_request(request, str(exc))
    content = rates_export(actor=request.user, place=place, start=start, end=end, fmt=fmt)
    filename = f"linli-rates-{place.code}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(content, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
