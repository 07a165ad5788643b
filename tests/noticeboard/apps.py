"""A throwaway app: a notice board per place (公告栏), built the way the next real app is,
to show that an app plugs into the kernel from its own folder: its capabilities, pages and
API, periodic job, home-page tile, notifications, authorisation cases and demo seed all come
from here. The only edit outside this folder is ``INSTALLED_APPS`` (``settings.py`` here).
"""

from django.apps import AppConfig


class NoticeboardConfig(AppConfig):
    name = "tests.noticeboard"
    label = "noticeboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.notify import register_kind
        from linli.core.registry import (
            register_api_viewset,
            register_demo_seed,
            register_periodic,
            register_routes,
            register_tile,
        )
        from tests.noticeboard.api import NoticeViewSet
        from tests.noticeboard.capabilities import GRANTS, NoticeCap
        from tests.noticeboard.notifications import KINDS
        from tests.noticeboard.tasks import expire_notices
        from tests.noticeboard.tiles import TILES

        declare_capabilities(NoticeCap, GRANTS)
        register_routes("tests.noticeboard.urls", order=90)
        register_api_viewset("notices", NoticeViewSet, "notice")
        register_periodic(expire_notices)
        for tile in TILES:
            register_tile(tile)
        for kind in KINDS:
            register_kind(kind)
        register_demo_seed("noticeboard", "tests.noticeboard.demo", order=90)
