"""Who reaches the people pages and API (the cases of ``linli.testing.authz``)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.people.capabilities import PeopleCap
from linli.people.models import Department, DepartmentKind, Household, Membership, Person
from linli.places.capabilities import PlaceCap
from linli.testing.authz import AuthzCases, Scoped, in_scope


def _people(user: Any) -> set[int]:
    return {
        p.pk
        for p in Person.objects.select_related("place")
        if in_scope(p.place.path, user, PeopleCap.VIEW_PEOPLE) or p.user_id == user.pk
    }


@pytest.mark.django_db
class TestAuthz(AuthzCases):
    public = {
        "people:index": "the people the reader may see, listed by the selector",
        "people:profile": "one's own profile",
        "people:audit": "the audit entries of the places the reader may audit (selector)",
        "person-list": "scoped by the selector (compared below)",
        "household-list": "scoped by the selector (compared below)",
        "department-list": "scoped by the selector (compared below)",
        "membership-list": "scoped by the selector (compared below)",
        "department-detail": "departments are public bodies: name and kind only",
    }
    scoped = {
        "people:person": Scoped("GET", "person", wrong="volunteer"),
        "people:person_unmask": Scoped("POST", "person", wrong="building_leader"),
        "people:household": Scoped("GET", "household", wrong="volunteer"),
        "people:place_memberships": Scoped("GET", "place", wrong="volunteer"),
        "people:membership_revoke": Scoped("POST", "membership", wrong="grid_worker", right="secretary"),
        "person-detail": Scoped("GET", "person", wrong="volunteer"),
        "person-unmask": Scoped("POST", "person", wrong="building_leader"),
        "household-detail": Scoped("GET", "household", wrong="volunteer"),
        "membership-detail": Scoped("GET", "membership", wrong="volunteer", right="secretary"),
    }
    lists = {
        "/api/people/": _people,
        "/api/households/": lambda user: {
            h.pk
            for h in Household.objects.select_related("place")
            if in_scope(h.place.path, user, PeopleCap.VIEW_PEOPLE)
        },
        "/api/departments/": lambda user: {
            d.pk
            for d in Department.objects.select_related("place")
            if in_scope(d.place.path, user, PlaceCap.VIEW_PLACES)
        },
        "/api/memberships/": lambda user: {
            m.pk
            for m in Membership.objects.filter(ended_at__isnull=True).select_related("place")
            if in_scope(m.place.path, user, PeopleCap.VIEW_MEMBERSHIPS)
        },
    }

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        holder = "volunteer" if tag == "a" else "grid_worker_b"
        membership = Membership.objects.get(person__user=world.users[holder])
        return {**super().objects(world, tag), "membership": {"pk": membership.pk}}

    def populate(self, world: Any) -> None:
        """Departments of a district, of each community."""
        for code, kind, place in (
            ("t-housing", DepartmentKind.HOUSING, world.district),
            ("t-property-a", DepartmentKind.PROPERTY, world.community_a),
            ("t-property-b", DepartmentKind.PROPERTY, world.community_b),
        ):
            Department.objects.create(code=code, name=code, kind=kind, place=place)
