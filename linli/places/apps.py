from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "linli.places"
    label = "places"
    verbose_name = _("地点")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.imports import register_importer
        from linli.places.capabilities import GRANTS, PlaceCap
        from linli.places.services import place_import_counts

        declare_capabilities(PlaceCap, GRANTS)
        register_importer("places", place_import_counts)
