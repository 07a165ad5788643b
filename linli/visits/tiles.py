"""The visits app's tile on the home page (``core.registry``)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, scope_for
from linli.core.registry import Tile
from linli.visits.capabilities import VisitCap


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
