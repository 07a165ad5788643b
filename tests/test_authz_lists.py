"""Authorisation of every list endpoint: each actor gets exactly the rows in its scope.

The rows expected are computed here from the memberships and the capability table alone (a
second statement of the rules, written independently of the selectors), then compared by id
with what every page of the endpoint returns, for actors of every kind: staff of each
community, the street and district, a liaison, carers, a resident, a volunteer, a mediator.
A list endpoint added to the API fails ``test_every_api_list_is_covered`` until it is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import QuerySet
from django.urls import reverse
from rest_framework.test import APIClient

from linli.core.access import CAPABILITIES, SYSTEM
from linli.needs.capabilities import NeedCap
from linli.needs.models import Dispatch, Need, NeedReporter
from linli.people.capabilities import PeopleCap
from linli.people.models import Department, Household, Membership, Person
from linli.places.capabilities import PlaceCap
from linli.places.models import Place
from linli.testing import sign_in
from linli.visits.capabilities import VisitCap
from linli.visits.models import CareAssignment, Visit
from tests.test_authz import _needs_of, _visits_of, kwarg_names

pytestmark = pytest.mark.django_db

ACTORS = [
    "grid_worker",
    "community_staff",
    "secretary",
    "secretary_b",
    "grid_worker_b",
    "street_official",
    "district_official",
    "department_liaison",
    "building_leader",
    "central_household",
    "resident",
    "volunteer",
    "mediator",
]


def _grants(user: Any) -> list[tuple[str, str, int | None]]:
    return list(
        Membership.objects.filter(person__user=user, ended_at__isnull=True).values_list(
            "role", "place__path", "department_id"
        )
    )


def _paths(user: Any, action: str) -> list[str]:
    return [path for role, path, _ in _grants(user) if action in CAPABILITIES[role]]


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path.startswith(p) for p in prefixes)


def _ids(qs: QuerySet[Any], keep: Callable[[Any], bool]) -> set[int]:
    return {row.pk for row in qs if keep(row)}


def _expected_needs(user: Any) -> set[int]:
    viewable = _paths(user, NeedCap.VIEW_NEEDS)
    liaison = [(path, dep) for role, path, dep in _grants(user) if dep is not None]
    reported = set(NeedReporter.objects.filter(user=user).values_list("need_id", flat=True))
    dispatched = {(d.need_id, d.department_id) for d in Dispatch.objects.all()}
    return {
        n.pk
        for n in Need.objects.all()
        if _under(n.place_path, viewable)
        or n.pk in reported
        or n.submitted_by_id == user.pk
        or any(n.place_path.startswith(path) and (n.pk, dep) in dispatched for path, dep in liaison)
    }


def _expected_dispatches(user: Any) -> set[int]:
    viewable = _paths(user, NeedCap.VIEW_NEEDS)
    liaison = [(path, dep) for role, path, dep in _grants(user) if dep is not None]
    return {
        d.pk
        for d in Dispatch.objects.select_related("need")
        if _under(d.need.place_path, viewable)
        or any(d.need.place_path.startswith(path) and d.department_id == dep for path, dep in liaison)
    }


def _expected_visits(user: Any) -> set[int]:
    readable = _paths(user, VisitCap.VIEW_VISITS)
    person = Person.objects.filter(user=user).first()
    cared = set(
        CareAssignment.objects.filter(carer=person, ended_at__isnull=True).values_list("household_id", flat=True)
    )
    return {
        v.pk
        for v in Visit.objects.all()
        if _under(v.place_path, readable) or v.household_id in cared or (person and v.visitor_id == person.pk)
    }


#: endpoint → the rows the actor should get
EXPECTED: dict[str, Callable[[Any], set[Any]]] = {
    "/api/places/": lambda u: {p.code for p in Place.objects.all() if _under(p.path, _paths(u, PlaceCap.VIEW_PLACES))},
    "/api/people/": lambda u: _ids(
        Person.objects.select_related("place"),
        lambda p: _under(p.place.path, _paths(u, PeopleCap.VIEW_PEOPLE)) or p.user_id == u.pk,
    ),
    "/api/households/": lambda u: _ids(
        Household.objects.select_related("place"), lambda h: _under(h.place.path, _paths(u, PeopleCap.VIEW_PEOPLE))
    ),
    "/api/departments/": lambda u: _ids(
        Department.objects.select_related("place"), lambda d: _under(d.place.path, _paths(u, PlaceCap.VIEW_PLACES))
    ),
    "/api/memberships/": lambda u: _ids(
        Membership.objects.filter(ended_at__isnull=True).select_related("place"),
        lambda m: _under(m.place.path, _paths(u, PeopleCap.VIEW_MEMBERSHIPS)),
    ),
    "/api/needs/": _expected_needs,
    "/api/dispatches/": _expected_dispatches,
    "/api/visits/": _expected_visits,
}
#: lists of things that belong to no place (the dispatch catalogue), or that are not rows
UNSCOPED = {"/api/categories/", "/api/visits/coverage/", "/api/needs/triage/"}


def _all_ids(client: APIClient, url: str) -> set[Any] | None:
    """Every id over every page; ``None`` when the actor may not use the list at all."""
    found: set[int] = set()
    page: str | None = f"{url}?page_size=200"
    while page:
        response = client.get(page)
        if response.status_code in (403, 404):
            return None
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        body = response.json()
        found |= {row["code"] if url == "/api/places/" else row["id"] for row in body["results"]}
        page = body.get("next")
    return found


@pytest.fixture
def populated(world: Any) -> Any:
    _needs_of(world)
    _visits_of(world)
    from linli.visits.services import care_assign

    care_assign(actor=SYSTEM, household=world.household_a, carer=world.users["central_household"].person)
    from linli.people.models import DepartmentKind

    for code, kind, place in (
        ("t-housing", DepartmentKind.HOUSING, world.district),
        ("t-property-a", DepartmentKind.PROPERTY, world.community_a),
        ("t-property-b", DepartmentKind.PROPERTY, world.community_b),
    ):
        Department.objects.create(code=code, name=code, kind=kind, place=place)
    return world


def test_every_list_returns_exactly_the_rows_in_scope(populated: Any) -> None:
    seen: dict[str, int] = dict.fromkeys(EXPECTED, 0)
    for name in ACTORS:
        user = populated.users[name]
        client = APIClient()
        sign_in(client, user)
        for url, expected in EXPECTED.items():
            got = _all_ids(client, url)
            want = expected(user)
            if got is None:  # refused outright: only when there is nothing in scope to show
                assert not want, (name, url, sorted(want))
                continue
            assert got == want, (name, url, "extra", sorted(got - want), "missing", sorted(want - got))
            seen[url] += len(got)
    # the positive control: no list was compared as two empty sets for everyone
    assert all(seen.values()), seen


def test_every_api_list_is_covered() -> None:
    from tests.test_authz import all_urls

    lists = {reverse(name) for name, pattern in all_urls() if name.endswith("-list") and not kwarg_names(pattern)}
    assert lists - UNSCOPED <= set(EXPECTED), sorted(lists - UNSCOPED - set(EXPECTED))
