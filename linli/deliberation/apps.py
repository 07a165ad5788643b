from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    """决策共谋: topics, meetings, votes and resident conventions. It touches nothing outside
    itself but the kernel's registries and the services of the apps below it (a decision's
    need is raised through the needs app's intake). ``linli deliberation tally FILE.json``
    recounts any vote through ``deliberation.tally``."""

    name = "linli.deliberation"
    label = "deliberation"
    verbose_name = _("议事与表决")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.registry import register_routes
        from linli.deliberation.capabilities import GRANTS, DelibCap

        declare_capabilities(DelibCap, GRANTS)
        register_routes("linli.deliberation.urls", prefix="deliberation/", order=55)
        # --- topics (register here) ---
        # --- meetings and decisions (register here) ---
        # --- votes (register here) ---
        # --- conventions (register here) ---
        from linli.core.registry import register_api_viewset, register_tile
        from linli.deliberation.api_conventions import ConventionViewSet
        from linli.deliberation.hooks import on_vote_closed
        from linli.deliberation.services.conventions import convention_vote_closed
        from linli.deliberation.tiles_conventions import TILES as CONVENTION_TILES

        on_vote_closed(convention_vote_closed)
        register_api_viewset("conventions", ConventionViewSet, "convention")
        for tile in CONVENTION_TILES:
            register_tile(tile)
