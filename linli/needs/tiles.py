"""The needs app's tiles on the home page and its download on a place's page (``core.registry``)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import scope_for
from linli.core.registry import Export, NavLink, Tile
from linli.needs.capabilities import NeedCap
from linli.needs.models import liaison_areas
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
