from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from linli.people.selectors import access_household, access_person, audit_list, household_list, person_list
from linli.people.services import person_unmask

pytestmark = pytest.mark.django_db


def ids(qs: Any) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_grid_worker_sees_own_grid_only(world: Any) -> None:
    visible = ids(person_list(actor=world.users["grid_worker"]))
    assert world.resident_a.pk in visible
    assert world.resident_b.pk not in visible
    with pytest.raises(Http404):
        access_person(world.users["grid_worker"], world.resident_b.pk)


def test_street_official_sees_both_communities(world: Any) -> None:
    visible = ids(person_list(actor=world.users["street_official"]))
    assert {world.resident_a.pk, world.resident_b.pk} <= visible


def test_resident_sees_own_household_and_self(world: Any) -> None:
    resident = world.users["resident"]
    assert ids(household_list(actor=resident)) == {world.household_a.pk}
    assert world.resident_b.pk not in ids(person_list(actor=resident))
    assert access_person(resident, world.resident_a.pk) == world.resident_a


def test_volunteer_sees_nobody_but_self(world: Any) -> None:
    volunteer = world.users["volunteer"]
    assert ids(person_list(actor=volunteer)) == {volunteer.person.pk}


def test_junk_ids_are_404_not_500(world: Any) -> None:
    for junk in ("abc", None, "1; drop table", -1):
        with pytest.raises(Http404):
            access_person(world.users["grid_worker"], junk)
        with pytest.raises(Http404):
            access_household(world.users["grid_worker"], junk)


def test_search_is_simplified_traditional_insensitive(world: Any) -> None:
    actor = world.users["street_official"]
    assert world.resident_a.pk in ids(person_list(actor=actor, q="張建國"))
    assert world.resident_a.pk in ids(person_list(actor=actor, q="zhangjian"))


def test_audit_is_scoped_to_the_secretarys_places(world: Any) -> None:
    person_unmask(actor=world.users["grid_worker"], person=world.resident_a, field="phone", reason="回访")
    person_unmask(actor=world.users["grid_worker_b"], person=world.resident_b, field="phone", reason="回访")
    a = audit_list(actor=world.users["secretary"], action="unmask")
    b = audit_list(actor=world.users["secretary_b"], action="unmask")
    assert {e.target_id for e in a} == {str(world.resident_a.pk)}
    assert {e.target_id for e in b} == {str(world.resident_b.pk)}
    assert not audit_list(actor=world.users["grid_worker"]).exists()
