from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """The working-day calendar (节假日与调休) and deadlines counted in working days: a shared
    tool of every app with time limits."""

    name = "linli.workdays"
    label = "workdays"
    verbose_name = _("工作日历")
