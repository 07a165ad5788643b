"""The conventions' tile on the home page (``core.registry``): 居民公约 for everyone who reads
deliberation (residents read, comment on and sign their community's)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.access import scope_for
from linli.core.registry import Tile
from linli.deliberation.capabilities import DelibCap

TILES = [
    Tile(
        key="deliberation-conventions",
        title=_("居民公约"),
        note=_("读公约、提意见、签署"),
        url_name="deliberation:conventions",
        shown=lambda actor: scope_for(actor).holds_anywhere(DelibCap.VIEW),
        order=66,
    ),
]
