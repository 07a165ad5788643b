from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmarks and the synthetic city they run on (``linli gen-city``, ``linli bench``):
    tools beside the runtime apps, never imported by them."""

    name = "linli.bench"
    label = "bench"
    verbose_name = "Linli benchmarks"
