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
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Length, Substr
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM, Actor, scope_for
from linli.core.audit import audit_export
from linli.core.sheets import Sheet, xlsx_file
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


def header() -> list[str]:
    """The visits sheet's columns, in the reader's language."""
    return [
        _("走访时间"),
        _("网格"),
        _("楼栋/院落"),
        _("房号"),
        _("走访类型"),
        _("走访人"),
        _("见到的人"),
        _("听到的情况"),
        _("情况标记"),
        _("标记/宣讲政策"),
        _("诉求编号"),
    ]


#: The column of what was heard (wrapped in the sheet).
HEARD_COLUMN = 8
#: Column widths of the visits sheet, in characters.
WIDTHS = [17, 12, 12, 12, 10, 12, 12, 60, 18, 24, 10]


def summary_header() -> list[str]:
    return ["", _("住户数"), _("本月走访次数"), _("本月走访到的住户"), _("走访覆盖率"), _("逾期未走访"), _("从未走访")]


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
        return _("%(year)s年%(month)s月") % {"year": self.year, "month": self.month}

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def ledger_month(year: int, month: int, *, now: dt.datetime) -> Month:
    """The month asked for; a month still to come (in local time) is refused."""
    if not 1 <= month <= 12:
        raise BadMonth(_("月份应为1—12"))
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise BadMonth(
            _("年份应在%(_FIRST_YEAR)s—%(_LAST_YEAR)s之间") % {"_FIRST_YEAR": _FIRST_YEAR, "_LAST_YEAR": _LAST_YEAR}
        )
    start = dt.datetime(year, month, 1, tzinfo=get_default_timezone())
    nxt = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=get_default_timezone())
    if start > now:
        raise BadMonth(_("该月份尚未到来，没有台账"))
    return Month(year=year, month=month, start=start, end=nxt)


def ledger_community(actor: Actor, code: str) -> Place:
    """The community whose ledger the actor asked for: 404 when it lies outside everything the
    actor may see, 403 when the actor sees it but may not read its visit records."""
    place = access_place(actor, code, PlaceCap.VIEW_PLACES)
    if not scope_for(actor).allows(VisitCap.VIEW_VISITS, place.path):
        raise PermissionDenied(_("您的角色不能查看该社区的走访记录"))
    return place


def may_unmask(actor: Actor, community: Place) -> bool:
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
        return _("%(community)s %(month)s 走访台账") % {"community": self.community.name, "month": self.month.label}

    @property
    def generated(self) -> str:
        return f"{self.generated_at.astimezone(get_default_timezone()):%Y-%m-%d %H:%M}"

    @property
    def masking(self) -> str:
        return _("完整") if self.full else _("已脱敏")

    @property
    def notes(self) -> list[str]:
        return [
            _("本月走访次数、走访到的住户按当月走访记录统计(不在家不计为走访到)。"),
            _(
                "住户数、包保人、逾期未走访和从未走访按生成时(%(generated)s)的包保关系和最近走访记录计算于月末，并非当时的快照"
            )
            % {"generated": self.generated},
            _("姓名和备注中的号码已脱敏。") if not self.full else _("本台账含完整姓名，请妥善保管。"),
        ]


def _visits(actor: Actor, community: Place, month: Month) -> list[Visit]:
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
            (visit.needs_help, _("需要立即帮助")),
            (visit.not_at_home, _("不在家")),
            (visit.refused, _("拒绝走访")),
        )
        if on
    ]
    tags = [str(_TAG_LABELS.get(t, t)) for t in visit.tags]
    if visit.policy_topic:
        tags.append(_("政策：%(topic)s") % {"topic": visit.policy_topic})
    return LedgerRow(
        when=f"{visit.visited_at.astimezone(get_default_timezone()):%Y-%m-%d %H:%M}",
        grid=visit.grid_name or "",
        building=visit.building_name or "",
        room=visit.household.place.name,
        kind=str(visit.get_kind_display()),
        visitor=name(visit.visitor.name),
        met=name(met) if met else "",
        heard=text(visit.heard),
        flags=_("、").join(flags),
        tags=_("、").join(tags),
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
    *, actor: Actor, community: Place, month: Month, full: bool = False, now: dt.datetime | None = None
) -> Ledger:
    """The ledger of ``community`` for ``month``. The caller has checked that the actor may read
    the community's visit records (and, for ``full``, unmask)."""
    now = now or timezone.now()
    visits = _visits(actor, community, month)
    by_grid = Counter(v.place_path[: len(community.path) + Place.steplen] for v in visits)
    by_visitor = Counter(str(v.visitor_id) for v in visits)
    name = (lambda s: s) if full else mask_name
    grids = [
        _summary_row(s, s.place.name if s.place is not None else _("(未分网格)"), by_grid[s.key])
        for s in _summaries(community, month, now, "child")
    ]
    carers = [
        _summary_row(s, name(s.carer_name) if s.key else _("(未包保)"), by_visitor[s.key] if s.key else 0)
        for s in _summaries(community, month, now, "carer")
    ]
    # the grids partition the community's households, so the total is their sum
    total = SummaryRow(
        name=_("合计"),
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


def ledger_xlsx(ledger: Ledger) -> Any:
    """The ledger as an XLSX workbook in a temporary file (a sheet of visits and a summary)."""
    summary: list[list[Any]] = [
        [ledger.title],
        [_("生成时间 %(at)s  ·  %(masking)s") % {"at": ledger.generated, "masking": ledger.masking}],
    ]
    summary += [[note] for note in ledger.notes]
    bold = [0]
    summary.append([])
    bold.append(len(summary))
    summary.append([_("按网格"), *summary_header()[1:]])
    summary += [grid.cells() for grid in ledger.grids]
    summary.append(ledger.total.cells())
    summary.append([])
    bold.append(len(summary))
    summary.append([_("按包保人"), *summary_header()[1:]])
    summary += [carer.cells() for carer in ledger.carers]
    return xlsx_file(
        Sheet(
            _("走访台账"),
            header(),
            [row.cells() for row in ledger.rows],
            widths=WIDTHS,
            wrap=[HEARD_COLUMN],
            print_title=ledger.title,
        ),
        Sheet(_("汇总"), [], summary, widths=SUMMARY_WIDTHS, bold_rows=bold),
    )


def ledger_pdf(ledger: Ledger) -> bytes:
    """The ledger as an A4 landscape PDF (WeasyPrint; CJK fonts from the system)."""
    import weasyprint

    html = render_to_string(
        "visits/ledger_pdf.html", {"ledger": ledger, "header": header(), "summary": summary_header()}
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


def ledger_export(
    *, actor: Actor, community: Place, month: Month, full: bool, reason: str, fmt: str, now: dt.datetime
) -> tuple[Ledger, Any]:
    """Build the ledger and its file (an XLSX temporary file, or PDF bytes), audited: masked or
    in full, and why (``reason`` as ``people.services.export_unmask`` checked it)."""
    book = ledger_build(actor=actor, community=community, month=month, full=full, now=now)
    audit_export(
        actor=actor,
        target=community,
        place=community,
        what="visits_ledger",
        rows=len(book.rows),
        full=full,
        reason=reason,
        format=fmt,
        month=month.key,
    )
    return book, ledger_xlsx(book) if fmt == "xlsx" else ledger_pdf(book)
