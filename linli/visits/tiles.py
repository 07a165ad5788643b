"""The visits app's tile and to-dos on the home page and its downloads on a place's page
(``core.registry``)."""

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, Role, scope_for
from linli.core.registry import Export, Metric, Tile, Todo
from linli.places.models import Place, PlaceKind
from linli.visits.capabilities import CARER_ROLES, VisitCap
from linli.visits.ledger import LEDGER_PLACE_KINDS
from linli.visits.selectors import late_count


def _title(actor: Actor) -> Any:
    return _("走访覆盖率") if scope_for(actor).holds_anywhere(VisitCap.VIEW_COVERAGE) else _("我包保的住户")


TILES = [
    Tile(
        key="visits-link",
        title=_("走访"),
        title_for=_title,
        note=_("包保、走访、夜访"),
        url_name="visits:home",
        shown=lambda actor: (
            scope_for(actor).holds_anywhere(VisitCap.VIEW_COVERAGE)
            or scope_for(actor).holds_anywhere(VisitCap.LOG_VISITS)
        ),
        order=60,
    ),
]


def _grid_late(actor: Actor) -> tuple[int, str] | None:
    """A grid worker's households overdue for a visit or never visited: the ``late`` list of
    its grid's coverage page (the first grid, for one who keeps several)."""
    scope = scope_for(actor)
    grids = sorted(g.path for g in scope.grants if g.role == Role.GRID_WORKER)
    if not grids or not scope.allows(VisitCap.VIEW_COVERAGE, grids[0]):
        return None
    grid = Place.objects.filter(path=grids[0]).first()
    if grid is None:
        return None
    url = f"{reverse('visits:coverage', args=[grid.code])}?status=late"
    return late_count(actor=actor, place=grid), url


def _carer_late(actor: Actor) -> tuple[int, str] | None:
    """A carer's (包保) own households overdue for a visit or never visited."""
    scope = scope_for(actor)
    if not scope.roles() & CARER_ROLES or scope.person_id is None:
        return None
    return late_count(actor=actor, carer_id=scope.person_id), f"{reverse('visits:home')}?status=late"


TODOS = [
    Todo(key="todo-grid-visits", title=_("超期未走访住户"), compute=_grid_late, late=True, order=50),
    Todo(key="todo-my-visits", title=_("我包保的超期住户"), compute=_carer_late, late=True, order=55),
]


def _ledger_url(place: Any) -> str:
    month = timezone.localdate()
    return reverse("visits:ledger", args=[place.code, month.year, month.month, "xlsx"])


EXPORTS = [
    Export(
        key="care",
        title=_("包保关系 (XLSX)"),
        note=_("号码已隐藏"),
        capability=VisitCap.VIEW_COVERAGE,
        url=lambda place: reverse("visits:care_export", args=[place.code]),
        kinds=(
            PlaceKind.STREET,
            PlaceKind.TOWN,
            PlaceKind.COMMUNITY,
            PlaceKind.VILLAGE,
            PlaceKind.GRID,
            PlaceKind.BUILDING,
            PlaceKind.COURTYARD,
        ),
        order=40,
    ),
    Export(
        key="ledger",
        title=_("本月走访台账 (XLSX)"),
        note=_("号码已隐藏"),
        capability=VisitCap.VIEW_VISITS,
        url=_ledger_url,
        kinds=LEDGER_PLACE_KINDS,
        order=50,
    ),
]


def coverage_of_children(actor: Actor, parent: Any, start: dt.date, end: dt.date) -> dict[str, float | None]:
    """走访覆盖率 of each child of ``parent``: the share of its households met at least once
    between ``start`` and ``end`` (one statement, ``selectors.coverage_summary``)."""
    from linli.visits.selectors import coverage_summary

    zone = timezone.get_default_timezone()
    until = min(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone), timezone.now())
    rows = coverage_summary(actor=actor, place=parent, by="child", now=until, period_days=(end - start).days + 1)
    return {row.place.code: row.period_rate for row in rows if row.place is not None}


METRICS = [
    Metric(
        key="coverage",
        label=_("走访覆盖率"),
        capability=VisitCap.VIEW_COVERAGE,
        compute=coverage_of_children,
        order=10,
    ),
]
