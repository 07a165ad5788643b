from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "linli.needs"
    label = "needs"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.notify import register_kind
        from linli.core.registry import (
            register_api_view,
            register_api_viewset,
            register_demo_seed,
            register_export,
            register_nav,
            register_periodic,
            register_routes,
            register_tile,
            register_todo,
        )
        from linli.core.timeline import register_timeline
        from linli.needs.api import CategoryViewSet, DispatchViewSet, NeedViewSet, TriageView
        from linli.needs.capabilities import GRANTS, NeedCap
        from linli.needs.deadlines import sweep_deadlines
        from linli.needs.models import EventKind, Need, NeedEvent
        from linli.needs.notifications import KINDS
        from linli.needs.rates import rollup_event
        from linli.needs.tiles import EXPORTS, NAV, TILES, TODOS

        declare_capabilities(NeedCap, GRANTS)
        register_timeline(Need, NeedEvent, field="need", kinds=EventKind, after=[rollup_event])
        register_periodic(sweep_deadlines)
        for kind in KINDS:
            register_kind(kind)
        register_routes("linli.needs.urls", order=30)
        register_api_viewset("needs", NeedViewSet, "need")
        register_api_viewset("dispatches", DispatchViewSet, "dispatch")
        register_api_viewset("categories", CategoryViewSet, "category")
        register_api_view("needs/triage/", TriageView.as_view(), "need-triage")
        for tile in TILES:
            register_tile(tile)
        for todo in TODOS:
            register_todo(todo)
        for link in NAV:
            register_nav(link)
        for export in EXPORTS:
            register_export(export)
        register_demo_seed("needs", "linli.needs.demo", order=40)
