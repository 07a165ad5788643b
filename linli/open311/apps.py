from django.apps import AppConfig


class Open311Config(AppConfig):
    """Open311 GeoReport v2 over the needs app (an adapter, no models)."""

    name = "linli.open311"
    label = "open311"
    verbose_name = "Open311"

    def ready(self) -> None:
        from linli.core.registry import register_routes

        register_routes("linli.open311.urls", prefix="open311/v2/", order=50)
