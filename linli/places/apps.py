from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "linli.places"
    label = "places"
    verbose_name = _("地点")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.imports import register_importer
        from linli.core.registry import (
            register_api_viewset,
            register_export,
            register_nav,
            register_routes,
            register_tile,
        )
        from linli.places.api import PlaceViewSet
        from linli.places.capabilities import GRANTS, PlaceCap
        from linli.places.services import place_import_counts
        from linli.places.tiles import EXPORTS, NAV, TILES

        declare_capabilities(PlaceCap, GRANTS)
        register_importer("places", place_import_counts)
        for tile in TILES:
            register_tile(tile)
        for link in NAV:
            register_nav(link)
        for export in EXPORTS:
            register_export(export)
        register_routes("linli.places.urls", order=10)
        register_api_viewset("places", PlaceViewSet, "place")
