from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo built from the seeds (``linli load-demo``, ``linli demo``)."""

    name = "linli.demo"
    label = "demo"
    verbose_name = "Linli demo"
