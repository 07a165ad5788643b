from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from linli.core.access import scope_for
from linli.places.models import Place
from linli.places.selectors import access_place, place_ancestors, place_list, place_roots, place_search, with_counts

pytestmark = pytest.mark.django_db


def test_subtree_is_one_prefix_query(world: Any, django_assert_num_queries: Any) -> None:
    actor = world.users["grid_worker"]
    scope_for(actor)  # computed once per request, then cached on the user
    with django_assert_num_queries(1):
        codes = [p.code for p in place_list(actor=actor)]
    assert codes == ["t-a-g1", "t-a-g1-b1", "t-a-g1-b1-101"]


def test_roots_and_access(world: Any) -> None:
    assert [p.code for p in place_roots(actor=world.users["secretary"])] == ["t-a"]
    assert [p.code for p in place_roots(actor=world.users["system_admin"])] == ["t-city"]
    with pytest.raises(Http404):
        access_place(world.users["secretary"], "t-b")
    with pytest.raises(Http404):
        access_place(world.users["secretary"], "no-such-code")


def test_counts_cover_the_subtree(world: Any) -> None:
    street = with_counts(Place.objects.filter(pk=world.street.pk)).get()
    assert street.household_count == 2
    community = with_counts(Place.objects.filter(pk=world.community_a.pk)).get()
    from linli.people.models import Person

    assert community.people_count == Person.objects.filter(place__path__startswith=world.community_a.path).count()


def test_ancestors_and_search(world: Any) -> None:
    assert [p.code for p in place_ancestors(world.household_place_a)] == [
        "t-city",
        "t-district",
        "t-street",
        "t-a",
        "t-a-g1",
        "t-a-g1-b1",
        "t-a-g1-b1-101",
    ]
    assert [p.code for p in place_search(actor=world.users["street_official"], q="常二社區")] == ["t-a"]
    assert place_search(actor=world.users["secretary_b"], q="常二") == []
