from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linli.core"
    label = "core"
    verbose_name = "Linli core"

    def ready(self) -> None:
        from linli.core.registry import exports_panel, register_panel, register_periodic
        from linli.core.tasks import beat_worker

        register_periodic(beat_worker)  # the heartbeat /healthz reads
        register_panel("place", exports_panel, order=90)  # the downloads the apps registered
