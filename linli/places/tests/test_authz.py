"""Who reaches the places pages and API (the cases of ``linli.testing.authz``)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.places.capabilities import PlaceCap
from linli.places.models import Place
from linli.testing.authz import AuthzCases, Scoped, in_scope


@pytest.mark.django_db
class TestAuthz(AuthzCases):
    public = {
        "places:index": "the places the reader may see, listed by the selector",
        "places:import": "the upload form; the import itself checks the place of every row",
        "place-list": "the list is scoped by the selector (compared below)",
    }
    scoped = {
        "places:detail": Scoped("GET", "place", wrong="outsider"),
        "places:export": Scoped("GET", "place", wrong="grid_worker", right="street_official"),
        "place-detail": Scoped("GET", "place", wrong="outsider"),
    }
    lists = {
        "/api/places/": lambda user: {
            p.code for p in Place.objects.all() if in_scope(p.path, user, PlaceCap.VIEW_PLACES)
        },
    }
    list_keys = {"/api/places/": "code"}

    def populate(self, world: Any) -> None:
        """The world's tree is enough."""
