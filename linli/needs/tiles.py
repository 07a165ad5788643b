"""The needs app's tiles and to-do counts on the home page and its download on a place's
page (``core.registry``)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, account_id, scope_for
from linli.core.registry import Export, NavLink, Tile, Todo
from linli.needs import selectors
from linli.needs.capabilities import NeedCap
from linli.needs.models import DispatchStatus, Status, liaison_areas
from linli.places.models import PlaceKind

TILES = [
    Tile(
        key="report-need",
        title=_("我要反映问题"),
        url_name="needs:new",
        shown=lambda actor: scope_for(actor).holds_anywhere(NeedCap.SUBMIT_NEED),
        big=True,
        order=10,
    ),
    Tile(
        key="my-needs-link",
        title=_("我的诉求"),
        note=_("进度与评价"),
        url_name="needs:mine",
        shown=lambda actor: True,
        order=20,
    ),
    Tile(
        key="queue-link",
        title=_("诉求工作台"),
        note=_("受理、吹哨、办结"),
        url_name="needs:queue",
        shown=lambda actor: scope_for(actor).holds_anywhere(NeedCap.VIEW_NEEDS),
        order=30,
    ),
    Tile(
        key="dispatches-link",
        title=_("吹哨报到"),
        note=_("本部门的派单"),
        url_name="needs:dispatches",
        shown=lambda actor: bool(liaison_areas(actor)),
        order=40,
    ),
    Tile(
        key="dashboard-link",
        title=_("三率看板"),
        note=_("响应率、解决率、满意率"),
        url_name="needs:dashboard",
        shown=lambda actor: scope_for(actor).holds_anywhere(NeedCap.VIEW_RATES),
        order=50,
    ),
]

# --- to-dos: each counts the list it links to, through the same selector -----------------------------


def _to_accept(actor: Actor) -> tuple[int, str] | None:
    """Needs waiting to be accepted where the reader handles needs (the workbench's list)."""
    if not scope_for(actor).holds_anywhere(NeedCap.HANDLE_NEEDS):
        return None
    count = selectors.need_list(actor=actor, status=[Status.SUBMITTED]).count()
    return count, f"{reverse('needs:queue')}?status={Status.SUBMITTED}"


def _to_check_in(actor: Actor) -> tuple[int, str] | None:
    """What was whistled to the reader's department and waits for its check-in."""
    if not liaison_areas(actor):
        return None
    count = selectors.dispatch_list(actor=actor, status=DispatchStatus.WHISTLED).count()
    return count, f"{reverse('needs:dispatches')}?show=checkin"


def _dispatches_overdue(actor: Actor) -> tuple[int, str] | None:
    """The reader's department's dispatches past the deadline of their step."""
    if not liaison_areas(actor):
        return None
    count = selectors.dispatch_list(actor=actor, overdue=True).count()
    return count, f"{reverse('needs:dispatches')}?show=overdue"


def _to_rate(actor: Actor) -> tuple[int, str] | None:
    """The reader's own resolved needs waiting for its rating: always shown to those who
    report needs (residents, carers), to staff only when they have one."""
    if account_id(actor) is None:
        return None
    count = selectors.needs_to_rate(actor=actor).count()
    scope = scope_for(actor)
    if not count and (scope.holds_anywhere(NeedCap.HANDLE_NEEDS) or not scope.holds_anywhere(NeedCap.SUBMIT_NEED)):
        return None
    return count, f"{reverse('needs:mine')}?show=rate"


TODOS = [
    Todo(key="todo-accept", title=_("待受理诉求"), compute=_to_accept, order=10),
    Todo(key="todo-checkin", title=_("待报到派单"), compute=_to_check_in, order=20),
    Todo(key="todo-dispatch-overdue", title=_("超期派单"), compute=_dispatches_overdue, late=True, order=30),
    Todo(key="todo-rate", title=_("待我评价"), compute=_to_rate, order=40),
]

EXPORTS = [
    Export(
        key="rates",
        title=_("三率报表 (XLSX)"),
        note=_("本月至今，含下级和部门"),
        capability=NeedCap.VIEW_RATES,
        url=lambda place: f"{reverse('needs:dashboard_export', args=['xlsx'])}?{urlencode({'place': place.code})}",
        kinds=(
            PlaceKind.CITY,
            PlaceKind.DISTRICT,
            PlaceKind.COUNTY,
            PlaceKind.STREET,
            PlaceKind.TOWN,
            PlaceKind.COMMUNITY,
            PlaceKind.VILLAGE,
            PlaceKind.GRID,
        ),
        order=30,
    ),
]

NAV = [NavLink(key="needs", title=_("诉求"), url_name="needs:mine", order=20)]
