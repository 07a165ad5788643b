from django.utils.translation import gettext_lazy as _

from linli.core.access import scope_for
from linli.core.registry import Tile
from tests.noticeboard.capabilities import NoticeCap

TILES = [
    Tile(
        key="noticeboard",
        title=_("公告栏"),
        note=_("社区的通知"),
        url_name="noticeboard:index",
        shown=lambda actor: scope_for(actor).holds_anywhere(NoticeCap.VIEW_NOTICES),
        section="more",
        order=90,
    )
]
