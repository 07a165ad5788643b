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
        from linli.core.notify import register_kind
        from linli.core.registry import (
            register_api_viewset,
            register_demo_seed,
            register_periodic,
            register_routes,
            register_tile,
            register_todo,
        )
        from linli.deliberation.api import VIEWSETS
        from linli.deliberation.capabilities import GRANTS, DelibCap
        from linli.deliberation.hooks import on_vote_cancelled, on_vote_closed
        from linli.deliberation.notifications import KINDS
        from linli.deliberation.services.conventions import convention_vote_cancelled, convention_vote_closed
        from linli.deliberation.services.meetings import decision_vote_cancelled, decision_vote_closed
        from linli.deliberation.tasks import PERIODIC
        from linli.deliberation.tiles import TILES, TODOS

        declare_capabilities(DelibCap, GRANTS)
        register_routes("linli.deliberation.urls", prefix="deliberation/", order=55)
        for prefix, viewset, basename in VIEWSETS:
            register_api_viewset(prefix, viewset, basename)
        for kind in KINDS:
            register_kind(kind)
        for task in PERIODIC:
            register_periodic(task)
        for tile in TILES:
            register_tile(tile)
        for todo in TODOS:
            register_todo(todo)
        # a closed vote settles the decision put to it and adopts or rejects a convention's version
        on_vote_closed(decision_vote_closed)
        on_vote_closed(convention_vote_closed)
        # a cancelled vote leaves the decision open with a note and sends a convention's version back
        on_vote_cancelled(decision_vote_cancelled)
        on_vote_cancelled(convention_vote_cancelled)
        # the demo: after the needs (40) and the visits (50), whose needs and carers it uses
        register_demo_seed("deliberation", "linli.deliberation.demo", order=60)
