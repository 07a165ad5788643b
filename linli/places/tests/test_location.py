"""A point is filed wherever the platform serves it: in the grid that covers it, the nearest
grid within a set distance, the community that covers it, or the street that covers it (or
lies near) for its staff to locate by hand. Only a point outside every street is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from linli.core.access import SYSTEM
from linli.needs.models import Level
from linli.needs.services import need_create
from linli.places.location import How, grid_index_clear, locate
from linli.places.models import PlaceKind
from linli.places.services import place_create
from linli.testing import rect

pytestmark = pytest.mark.django_db

#: One degree of latitude in metres, and of longitude at 30.6°N (cos 30.6° × 111,320).
LAT_M, LNG_M = 111_320.0, 95_820.0


@pytest.fixture
def mapped(world: Any) -> Iterator[Any]:
    """The street spans 114.20–114.30 × 30.58–30.62; community A covers its west half
    (114.20–114.25); its grid covers only 114.20–114.22. Community B and its grid have no
    boundary."""
    for place, boundary in (
        (world.street, rect(114.20, 30.58, 114.30, 30.62)),
        (world.community_a, rect(114.20, 30.58, 114.25, 30.62)),
        (world.grid_a, rect(114.20, 30.58, 114.22, 30.62)),
    ):
        place.boundary = boundary
        place.save(update_fields=["boundary"])
    grid_index_clear()
    yield world
    grid_index_clear()


def east_of_grid(metres: float) -> float:
    return 114.22 + metres / LNG_M


def test_each_ring_of_the_territory(mapped: Any) -> None:
    w = mapped
    inside = locate(place=None, lat=30.60, lng=114.21)
    assert inside is not None and (inside.place, inside.grid, inside.how) == (w.grid_a, w.grid_a, How.COVERED)

    near = locate(place=None, lat=30.60, lng=east_of_grid(100))
    assert near is not None and (near.place, near.grid, near.how) == (w.grid_a, w.grid_a, How.NEAREST)
    assert near.metres is not None and 95 < near.metres < 105

    # 400 m east of the grid, still in community A: its community, with no grid
    community = locate(place=None, lat=30.60, lng=east_of_grid(400))
    assert community is not None and (community.place, community.grid) == (w.community_a, None)
    assert community.how == How.COMMUNITY and not community.to_locate

    # in the street's east half, which no community covers: the street, to locate by hand
    street = locate(place=None, lat=30.60, lng=114.28)
    assert street is not None and (street.place, street.grid, street.how) == (w.street, None, How.STREET)
    assert street.to_locate

    # 1 km north of the street's boundary: the nearest street within 2 km
    north = locate(place=None, lat=30.62 + 1000 / LAT_M, lng=114.28)
    assert north is not None and north.place == w.street and north.to_locate
    # 5 km away, and in Beijing: nothing serves it
    assert locate(place=None, lat=30.62 + 5000 / LAT_M, lng=114.28) is None
    assert locate(place=None, lat=39.9, lng=116.4) is None


@override_settings(LINLI_NEAREST_GRID_METRES=300)
def test_the_distance_to_the_nearest_grid_is_a_setting(mapped: Any) -> None:
    found = locate(place=None, lat=30.60, lng=east_of_grid(250))
    assert found is not None and found.how == How.NEAREST and found.grid == mapped.grid_a
    assert locate(place=None, lat=30.60, lng=east_of_grid(350)).how == How.COMMUNITY  # type: ignore[union-attr]


def test_the_nearest_grid_is_measured_in_metres_not_degrees(mapped: Any) -> None:
    """At 30.6°N a degree of longitude is 14 % shorter than one of latitude: grid A lies
    0.0013° west of the point (125 m), a north grid 0.0012° north of it (134 m). Degrees would
    pick the north grid; metres pick grid A."""
    w = mapped
    north_grid = place_create(
        actor=SYSTEM, parent=w.community_a, code="t-a-gn", name="北网格", kind=PlaceKind.GRID,
        boundary=rect(114.221, 30.62, 114.23, 30.63),
    )  # fmt: skip
    grid_index_clear()
    lat, lng = 30.6188, 114.2213
    west_m, north_m = 0.0013 * LNG_M, 0.0012 * LAT_M
    assert west_m < north_m and 0.0013 > 0.0012
    found = locate(place=None, lat=lat, lng=lng)
    assert found is not None and found.grid == w.grid_a and found.grid != north_grid
    assert found.metres is not None and abs(found.metres - west_m) < 2


def test_a_place_at_or_below_a_grid_wins_over_the_point(mapped: Any) -> None:
    w = mapped
    found = locate(place=w.building_b, lat=30.60, lng=114.21)
    assert found is not None and (found.place, found.grid, found.how) == (w.building_b, w.grid_b, How.PLACE)


def test_a_community_with_a_point_files_in_its_own_grid_only(mapped: Any) -> None:
    w = mapped
    found = locate(place=w.community_a, lat=30.60, lng=114.21)
    assert found is not None and (found.place, found.grid) == (w.grid_a, w.grid_a)
    # a point in community A's grid, reported at community B: B keeps it, without a grid
    other = locate(place=w.community_b, lat=30.60, lng=114.21)
    assert other is not None and (other.place, other.grid, other.how) == (w.community_b, None, How.COMMUNITY)
    # a community without a point
    bare = locate(place=w.community_b)
    assert bare is not None and (bare.place, bare.grid) == (w.community_b, None)
    # a street without a point says nothing
    assert locate(place=w.street) is None


def test_intake_takes_every_point_the_street_serves(mapped: Any) -> None:
    w = mapped
    near = need_create(actor=SYSTEM, text="路灯坏了", lat=30.60, lng=east_of_grid(100))
    assert (near.place, near.grid, near.level) == (w.grid_a, w.grid_a, Level.GRID)
    in_community = need_create(actor=SYSTEM, text="路灯坏了", lat=30.60, lng=east_of_grid(400))
    assert (in_community.place, in_community.grid, in_community.level) == (w.community_a, None, Level.COMMUNITY)
    to_locate = need_create(actor=SYSTEM, text="井盖丢了", lat=30.60, lng=114.28)
    assert (to_locate.place, to_locate.grid, to_locate.level) == (w.street, None, Level.STREET)
    assert float(to_locate.lat) == 30.60  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        need_create(actor=SYSTEM, text="路灯坏了", lat=39.9, lng=116.4)
    assert "不在本平台服务的街道范围内" in str(refused.value)
    # a street named as the place, with no point, is still refused: choose a community
    with pytest.raises(ValidationError):
        need_create(actor=SYSTEM, text="路灯坏了", place=w.street)
