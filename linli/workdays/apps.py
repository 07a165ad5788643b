from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    """The working-day calendar (节假日与调休) and deadlines counted in working days: a shared
    tool of every app with time limits."""

    name = "linli.workdays"
    label = "workdays"
    verbose_name = "Linli workdays"
