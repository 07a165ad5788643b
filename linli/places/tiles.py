"""The place tree's tiles on the home page and its download on a place's page (``core.registry``)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import scope_for
from linli.core.registry import Export, NavLink, Tile
from linli.places.capabilities import PlaceCap

TILES = [
    Tile(
        key="places-link",
        title=_("浏览地点"),
        note=_("街道、社区、网格、楼栋、户"),
        url_name="places:index",
        shown=lambda actor: True,
        section="more",
        order=20,
    ),
    Tile(
        key="import-link",
        title=_("导入地点"),
        note="XLSX / CSV",
        url_name="places:import",
        shown=lambda actor: scope_for(actor).holds_anywhere(PlaceCap.MANAGE_PLACES),
        section="more",
        order=50,
    ),
]

EXPORTS = [
    Export(
        key="places",
        title=_("地点清单 (XLSX)"),
        note=_("本地点及其下级，可改后再导入"),
        capability=PlaceCap.MANAGE_PLACES,
        url=lambda place: reverse("places:export", args=[place.code]),
        order=10,
    ),
]

NAV = [NavLink(key="places", title=_("地点"), url_name="places:index", order=30)]
