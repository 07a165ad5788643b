"""The monthly visits ledger 走访台账 of a community, generated from the visit records rather
than typed: every visit of the month, then a summary per grid and per carer (households,
visits, households met in the month, coverage rate, overdue and never visited at month end).

The ledger is built once (:func:`ledger_build`: one query for the visits, whatever their number,
plus a constant handful for the summary) and written either as an XLSX workbook (openpyxl) or a
PDF (WeasyPrint). Personal data is masked unless the actor asked for the full ledger and holds
``unmask`` at the community (checked by the view, which also audits every export).
"""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Length, Substr
from django.template.loader import render_to_string
from django.utils import timezone

from linli.core.access import SYSTEM, scope_for
from linli.core.sheets import safe_cell
from linli.needs.workdays import LOCAL_TZ
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name, redact_text
from linli.places.capabilities import PlaceCap
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place
from linli.visits import selectors
from linli.visits.capabilities import VisitCap
from linli.visits.models import Visit, VisitTag
from linli.visits.services import GRID_PATH_LEN

LEDGER_PLACE_KINDS = (PlaceKind.COMMUNITY, PlaceKind.VILLAGE)
FORMATS = ("xlsx", "pdf")
_FIRST_YEAR, _LAST_YEAR = 2000, 2100
_TAG_LABELS = dict(VisitTag.choices)

HEADER = [
    "走访时间",
    "网格",
    "楼栋/院落",
    "房号",
    "走访类型",
    "走访人",
    "见到的人",
    "听到的情况",
    "情况标记",
    "标记/宣讲政策",
    "诉求编号",
]
#: Column widths of the visits sheet, in characters.
WIDTHS = [17, 12, 12, 12, 10, 12, 12, 60, 18, 24, 10]
SUMMARY_HEADER = ["", "住户数", "本月走访次数", "本月走访到的住户", "走访覆盖率", "逾期未走访", "从未走访"]
SUMMARY_WIDTHS = [22, 10, 14, 18, 12, 12, 12]


class BadMonth(ValueError):
    """A month the ledger cannot be made for (out of range, or still to come); a 400."""


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    start: dt.datetime  # first instant of the month, local time
    end: dt.datetime  # first instant of the next month, local time (exclusive)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def ledger_month(year: int, month: int, *, now: dt.datetime) -> Month:
    """The month asked for; a month still to come (in local time) is refused."""
    if not 1 <= month <= 12:
        raise BadMonth("月份应为1—12 / The month is 1 to 12")
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise BadMonth(f"年份应在{_FIRST_YEAR}—{_LAST_YEAR}之间 / The year lies between {_FIRST_YEAR} and {_LAST_YEAR}")
    start = dt.datetime(year, month, 1, tzinfo=LOCAL_TZ)
    nxt = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    if start > now:
        raise BadMonth("该月份尚未到来，没有台账 / This month has not begun: there is no ledger for it yet")
    return Month(year=year, month=month, start=start, end=nxt)


def ledger_community(actor: Any, code: str) -> Place:
    """The community whose ledger the actor asked for: 404 when it lies outside everything the
    actor may see, 403 when the actor sees it but may not read its visit records."""
    place = access_place(actor, code, PlaceCap.VIEW_PLACES)
    if not scope_for(actor).allows(VisitCap.VIEW_VISITS, place.path):
        raise PermissionDenied(
            "您的角色不能查看该社区的走访记录 / Your role cannot read this community's visit records"
        )
    return place


def may_unmask(actor: Any, community: Place) -> bool:
    return scope_for(actor).allows(PeopleCap.UNMASK, community.path)


# --- the rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """One visit as the ledger shows it (texts already masked or not)."""

    when: str
    grid: str
    building: str
    room: str
    kind: str
    visitor: str
    met: str
    heard: str
    flags: str
    tags: str
    need: str

    def cells(self) -> list[str]:
        return [
            self.when,
            self.grid,
            self.building,
            self.room,
            self.kind,
            self.visitor,
            self.met,
            self.heard,
            self.flags,
            self.tags,
            self.need,
        ]


@dataclass(frozen=True)
class SummaryRow:
    """A grid, a carer, or the whole community in the summary."""

    name: str
    households: int
    visits: int
    met_households: int
    overdue: int
    never: int

    @property
    def coverage(self) -> str:
        """Households met at least once in the month over all households (走访覆盖率)."""
        return f"{self.met_households / self.households * 100:.1f}%" if self.households else "—"

    def cells(self) -> list[Any]:
        return [self.name, self.households, self.visits, self.met_households, self.coverage, self.overdue, self.never]


@dataclass(frozen=True)
class Ledger:
    community: Place
    month: Month
    full: bool
    generated_at: dt.datetime
    rows: list[LedgerRow]
    grids: list[SummaryRow]
    carers: list[SummaryRow]
    total: SummaryRow

    @property
    def title(self) -> str:
        return f"{self.community.name} {self.month.label} 走访台账"

    @property
    def generated(self) -> str:
        return f"{self.generated_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"

    @property
    def masking(self) -> str:
        return "完整 / full" if self.full else "已脱敏 / masked"

    @property
    def notes(self) -> list[str]:
        return [
            "本月走访次数、走访到的住户按当月走访记录统计(不在家不计为走访到)。",
            f"住户数、包保人、逾期未走访和从未走访按生成时({self.generated})的包保关系和最近走访记录计算于月末，"
            "并非当时的快照 / Households, carers, overdue and never-visited counts are as kept at generation time.",
            "姓名和备注中的号码已脱敏。" if not self.full else "本台账含完整姓名，请妥善保管。",
        ]


def _visits(actor: Any, community: Place, month: Month) -> list[Visit]:
    """The month's visits in the community, oldest first, with the names of their building and
    grid: one query."""
    building = Place.objects.filter(
        path=Substr(OuterRef("place_path"), 1, Length(OuterRef("place_path")) - Place.steplen)
    ).values("name")[:1]
    grid = Place.objects.filter(path=Substr(OuterRef("place_path"), 1, GRID_PATH_LEN)).values("name")[:1]
    qs = (
        selectors.visit_list(actor=actor, place=community, since=month.start, until=month.end)
        .annotate(building_name=Subquery(building), grid_name=Subquery(grid))
        .order_by("visited_at", "id")
    )
    return list(qs)


def _row(visit: Any, *, full: bool) -> LedgerRow:
    name = (lambda s: s) if full else mask_name
    text = (lambda s: s) if full else redact_text
    met = visit.met_person.name if visit.met_person is not None else visit.met_other
    flags = [
        label
        for on, label in (
            (visit.needs_help, "需要立即帮助"),
            (visit.not_at_home, "不在家"),
            (visit.refused, "拒绝走访"),
        )
        if on
    ]
    tags = [str(_TAG_LABELS.get(t, t)) for t in visit.tags]
    if visit.policy_topic:
        tags.append(f"政策：{visit.policy_topic}")
    return LedgerRow(
        when=f"{visit.visited_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}",
        grid=visit.grid_name or "",
        building=visit.building_name or "",
        room=visit.household.place.name,
        kind=str(visit.get_kind_display()),
        visitor=name(visit.visitor.name),
        met=name(met) if met else "",
        heard=text(visit.heard),
        flags="、".join(flags),
        tags="、".join(tags),
        need=str(visit.need_id) if visit.need_id else "",
    )


def _summaries(community: Place, month: Month, now: dt.datetime, by: str) -> list[selectors.CoverageSummary]:
    """Coverage at the end of the month (so far, for the current month); households met are
    counted over the whole month."""
    period = selectors.coverage_summary(actor=SYSTEM, place=community, by=by, now=month.end, period_days=month.days)
    if now >= month.end:
        return period
    # the month is not over: who is overdue is judged now, not at a month end still to come
    status = {s.key: s for s in selectors.coverage_summary(actor=SYSTEM, place=community, by=by, now=now)}
    return [
        replace(s, never=status[s.key].never, overdue=status[s.key].overdue) if s.key in status else s for s in period
    ]


def _summary_row(s: selectors.CoverageSummary, name: str, visits: int) -> SummaryRow:
    return SummaryRow(
        name=name,
        households=s.households,
        visits=visits,
        met_households=s.visited_in_period,
        overdue=s.overdue,
        never=s.never,
    )


def ledger_build(
    *, actor: Any, community: Place, month: Month, full: bool = False, now: dt.datetime | None = None
) -> Ledger:
    """The ledger of ``community`` for ``month``. The caller has checked that the actor may read
    the community's visit records (and, for ``full``, unmask)."""
    now = now or timezone.now()
    visits = _visits(actor, community, month)
    by_grid = Counter(v.place_path[: len(community.path) + Place.steplen] for v in visits)
    by_visitor = Counter(str(v.visitor_id) for v in visits)
    name = (lambda s: s) if full else mask_name
    grids = [
        _summary_row(s, s.place.name if s.place is not None else "(未分网格)", by_grid[s.key])
        for s in _summaries(community, month, now, "child")
    ]
    carers = [
        _summary_row(s, name(s.carer_name) if s.key else "(未包保)", by_visitor[s.key] if s.key else 0)
        for s in _summaries(community, month, now, "carer")
    ]
    # the grids partition the community's households, so the total is their sum
    total = SummaryRow(
        name="合计",
        households=sum(g.households for g in grids),
        visits=len(visits),
        met_households=sum(g.met_households for g in grids),
        overdue=sum(g.overdue for g in grids),
        never=sum(g.never for g in grids),
    )
    return Ledger(
        community=community,
        month=month,
        full=full,
        generated_at=now,
        rows=[_row(v, full=full) for v in visits],
        grids=grids,
        carers=carers,
        total=total,
    )


# --- the files --------------------------------------------------------------------------------


def _safe(cells: list[Any]) -> list[Any]:
    return [safe_cell(c) if isinstance(c, str) else c for c in cells]


def ledger_xlsx(ledger: Ledger) -> Any:
    """The ledger as an XLSX workbook in a temporary file (sheets 走访台账 and 汇总)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    sheet = workbook.create_sheet("走访台账")
    sheet.append(HEADER)
    for row in ledger.rows:
        sheet.append(_safe(row.cells()))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for n, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for (cell,) in sheet.iter_rows(min_row=2, min_col=8, max_col=8):
        cell.alignment = wrap
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    if sheet.oddHeader is not None and sheet.oddFooter is not None:
        sheet.oddHeader.center.text = ledger.title
        sheet.oddFooter.center.text = "&P / &N"

    summary = workbook.create_sheet("汇总")
    summary.append([ledger.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"生成时间 {ledger.generated}  ·  {ledger.masking}"])
    for note in ledger.notes:
        summary.append([note])
    summary.append([])
    summary.append(["按网格", *SUMMARY_HEADER[1:]])
    summary[summary.max_row][0].font = bold
    for grid in ledger.grids:
        summary.append(_safe(grid.cells()))
    summary.append(ledger.total.cells())
    summary.append([])
    summary.append(["按包保人", *SUMMARY_HEADER[1:]])
    summary[summary.max_row][0].font = bold
    for carer in ledger.carers:
        summary.append(_safe(carer.cells()))
    for n, width in enumerate(SUMMARY_WIDTHS, start=1):
        summary.column_dimensions[get_column_letter(n)].width = width
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FileResponse)
    workbook.save(handle)
    handle.seek(0)
    return handle


def ledger_pdf(ledger: Ledger) -> bytes:
    """The ledger as an A4 landscape PDF (WeasyPrint; CJK fonts from the system)."""
    import weasyprint

    html = render_to_string("visits/ledger_pdf.html", {"ledger": ledger, "header": HEADER, "summary": SUMMARY_HEADER})
    return bytes(weasyprint.HTML(string=html).write_pdf())
