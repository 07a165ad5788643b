from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "linli.visits"
    label = "visits"
    verbose_name = _("走访")

    def ready(self) -> None:
        from linli.core.imports import register_importer
        from linli.people.permissions import register_sensitive_access
        from linli.visits.care_io import care_import_counts
        from linli.visits.selectors import cared_household_paths

        register_sensitive_access(cared_household_paths)
        register_importer("care", care_import_counts)
