from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "linli.needs"
    label = "needs"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.notify import register_kind
        from linli.core.registry import register_periodic, register_tile
        from linli.needs.capabilities import GRANTS, NeedCap
        from linli.needs.deadlines import sweep_deadlines
        from linli.needs.notifications import KINDS
        from linli.needs.tiles import TILES

        declare_capabilities(NeedCap, GRANTS)
        register_periodic(sweep_deadlines)
        for kind in KINDS:
            register_kind(kind)
        for tile in TILES:
            register_tile(tile)
