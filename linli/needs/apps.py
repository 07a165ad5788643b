from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "linli.needs"
    label = "needs"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.needs.capabilities import GRANTS, NeedCap

        declare_capabilities(NeedCap, GRANTS)
