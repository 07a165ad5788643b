from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "linli.people"
    label = "people"
    verbose_name = _("居民与角色")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities, register_grant_source
        from linli.people.capabilities import GRANTS, PeopleCap
        from linli.people.selectors import membership_grants

        declare_capabilities(PeopleCap, GRANTS)
        register_grant_source(membership_grants)
