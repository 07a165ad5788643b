"""The people app's tiles and section on the home page (``core.registry``)."""

from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import CAPABILITIES, Actor, Role, scope_for
from linli.core.registry import NavLink, Tile
from linli.people.capabilities import PeopleCap
from linli.people.selectors import my_household, my_memberships, person_list


def _looks_after_others(actor: Actor) -> bool:
    """Residents see their own household; finding residents is for those who look after others."""
    scope = scope_for(actor)
    return scope.everything or any(
        g.role != Role.RESIDENT and PeopleCap.VIEW_PEOPLE in CAPABILITIES[g.role] for g in scope.grants
    )


def _household_url(actor: Actor) -> str:
    household = my_household(actor=actor)
    return reverse("people:household", args=[household.pk]) if household is not None else ""


TILES = [
    Tile(
        key="my-household",
        title=_("我的家庭"),
        url_name="people:household",
        url=_household_url,
        shown=lambda actor: my_household(actor=actor) is not None,
        section="more",
        order=10,
    ),
    Tile(
        key="people-link",
        title=_("查找居民"),
        note=_("号码默认脱敏显示"),
        url_name="people:index",
        shown=_looks_after_others,
        section="more",
        order=30,
    ),
    Tile(
        key="audit-link",
        title=_("审计记录"),
        note=_("谁在何时查看或修改了什么"),
        url_name="people:audit",
        shown=lambda actor: scope_for(actor).holds_anywhere(PeopleCap.VIEW_AUDIT),
        section="more",
        order=40,
    ),
    Tile(
        key="profile-link",
        title=_("我的资料"),
        url_name="people:profile",
        shown=lambda actor: True,
        section="more",
        order=90,
    ),
]


def roles_panel(request: Any, obj: Any = None) -> str:
    """One's roles and where, on the home page."""
    memberships = list(my_memberships(actor=request.user))
    return render_to_string("people/_roles_panel.html", {"memberships": memberships}, request=request)


def place_people_panel(request: Any, place: Any) -> str:
    """On a place's page: the way to its roles, and the people of a grid, building or
    courtyard (masked), for those who may see them."""
    from linli.core.pagination import paginate
    from linli.places.models import PlaceKind

    scope = scope_for(request.user)
    can_people = scope.allows(PeopleCap.VIEW_PEOPLE, place.path)
    can_memberships = scope.allows(PeopleCap.VIEW_MEMBERSHIPS, place.path)
    people_page = None
    if can_people and place.kind in (PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD):
        people_page = paginate(request, person_list(actor=request.user, place=place), per_page=30)
    if not (can_memberships or people_page):
        return ""
    context = {"place": place, "can_memberships": can_memberships, "people_page": people_page}
    return render_to_string("people/_place_people.html", context, request=request)


def household_page(request: Any, place: Any) -> str | None:
    """A household's place page is the household's own page, for those who may see it."""
    from linli.places.models import PlaceKind

    if place.kind != PlaceKind.HOUSEHOLD or not scope_for(request.user).allows(PeopleCap.VIEW_PEOPLE, place.path):
        return None
    household = getattr(place, "household", None)
    return reverse("people:household", args=[household.pk]) if household is not None else None


NAV = [
    NavLink(key="people", title=_("居民"), url_name="people:index", order=40),
    NavLink(key="profile", title=_("我的"), url_name="people:profile", order=90),
]
