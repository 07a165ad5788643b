from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "linli.visits"
    label = "visits"
    verbose_name = _("走访")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities, register_extra_paths
        from linli.core.imports import register_importer
        from linli.people.capabilities import PeopleCap
        from linli.visits.capabilities import GRANTS, VisitCap
        from linli.visits.care_io import care_import_counts
        from linli.visits.selectors import cared_household_paths

        declare_capabilities(VisitCap, GRANTS)
        # a carer sees the health and social flags of the households it cares for, and only those
        register_extra_paths(PeopleCap.VIEW_SENSITIVE, cared_household_paths)
        register_importer("care", care_import_counts)
