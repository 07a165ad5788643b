from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "linli.visits"
    label = "visits"
    verbose_name = _("走访")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities, register_extra_paths
        from linli.core.imports import register_importer
        from linli.core.notify import register_kind
        from linli.core.registry import (
            register_api_view,
            register_api_viewset,
            register_demo_seed,
            register_export,
            register_metric,
            register_periodic,
            register_routes,
            register_tile,
            register_todo,
        )
        from linli.needs.models import Channel
        from linli.needs.services import register_channel
        from linli.people.capabilities import PeopleCap
        from linli.visits.api import CoverageView, VisitViewSet
        from linli.visits.capabilities import GRANTS, VisitCap
        from linli.visits.care_io import care_import_counts
        from linli.visits.reminders import KINDS as REMINDER_KINDS
        from linli.visits.selectors import cared_household_paths
        from linli.visits.tasks import sweep_visit_reminders
        from linli.visits.tiles import EXPORTS, METRICS, TILES, TODOS

        declare_capabilities(VisitCap, GRANTS)
        # a carer sees the health and social flags of the households it cares for, and only those
        register_extra_paths(PeopleCap.VIEW_SENSITIVE, cared_household_paths)
        register_importer("care", care_import_counts)
        register_periodic(sweep_visit_reminders)
        for kind in REMINDER_KINDS:
            register_kind(kind)
        register_channel(Channel.VISIT, VisitCap.LOG_VISITS)  # a carer raises a need on a visit
        for tile in TILES:
            register_tile(tile)
        for export in EXPORTS:
            register_export(export)
        for todo in TODOS:
            register_todo(todo)
        for metric in METRICS:
            register_metric(metric)
        register_routes("linli.visits.urls", order=40)
        register_api_viewset("visits", VisitViewSet, "visit")
        register_api_view("visits/coverage/", CoverageView.as_view(), "visit-coverage")
        register_demo_seed("visits", "linli.visits.demo", order=50)
