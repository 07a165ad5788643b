from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "linli.people"
    label = "people"
    verbose_name = _("居民与角色")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities, register_extra_paths, register_grant_source
        from linli.core.registry import (
            register_api_viewset,
            register_nav,
            register_panel,
            register_place_counts,
            register_place_redirect,
            register_routes,
            register_tile,
        )
        from linli.core.timeline import register_account_namer
        from linli.people.api import DepartmentViewSet, HouseholdViewSet, MembershipViewSet, PersonViewSet
        from linli.people.capabilities import GRANTS, PeopleCap
        from linli.people.selectors import membership_grants, own_household_paths, timeline_names, with_people_counts
        from linli.people.tiles import NAV, TILES, household_page, place_people_panel, roles_panel

        declare_capabilities(PeopleCap, GRANTS)
        register_grant_source(membership_grants)
        register_account_namer(timeline_names)
        register_extra_paths(PeopleCap.VIEW_PEOPLE, own_household_paths)
        for tile in TILES:
            register_tile(tile)
        for link in NAV:
            register_nav(link)
        register_panel("home", roles_panel, order=10)
        register_panel("place", place_people_panel, order=10)
        register_place_counts(with_people_counts)
        register_place_redirect(household_page)
        register_routes("linli.people.urls", order=20)
        register_api_viewset("people", PersonViewSet, "person")
        register_api_viewset("households", HouseholdViewSet, "household")
        register_api_viewset("departments", DepartmentViewSet, "department")
        register_api_viewset("memberships", MembershipViewSet, "membership")
