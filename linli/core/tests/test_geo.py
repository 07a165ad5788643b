"""GCJ-02 ↔ WGS-84 and haversine distances (pure functions, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.core.geo import distance_m, gcj02_to_wgs84, in_china, wgs84_to_gcj02

# Tiananmen-ish; the published result of the open coordtransform library for this point.
BEIJING_WGS = (39.915, 116.404)
BEIJING_GCJ = (39.91640428150164, 116.41024449916938)
# Wuhan, Jianghan district (Changqing road).
WUHAN_WGS = (30.6095, 114.2560)


def test_forward_matches_the_published_transform() -> None:
    lat, lng = wgs84_to_gcj02(*BEIJING_WGS)
    assert lat == pytest.approx(BEIJING_GCJ[0], abs=1e-9)
    assert lng == pytest.approx(BEIJING_GCJ[1], abs=1e-9)


@pytest.mark.parametrize("point", [BEIJING_WGS, WUHAN_WGS])
def test_offset_is_hundreds_of_metres(point: tuple[float, float]) -> None:
    shifted = wgs84_to_gcj02(*point)
    offset = distance_m(*point, *shifted)
    assert 200 < offset < 800


@pytest.mark.parametrize("point", [BEIJING_WGS, WUHAN_WGS])
def test_inverse_recovers_the_point(point: tuple[float, float]) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert back[0] == pytest.approx(point[0], abs=1e-6)
    assert back[1] == pytest.approx(point[1], abs=1e-6)


def test_inverse_of_published_point() -> None:
    lat, lng = gcj02_to_wgs84(*BEIJING_GCJ)
    assert (lat, lng) == pytest.approx(BEIJING_WGS, abs=1e-6)


@pytest.mark.parametrize("point", [(51.5074, -0.1278), (40.7128, -74.0060), (-33.86, 151.21), (35.68, 139.76)])
def test_outside_china_is_unchanged(point: tuple[float, float]) -> None:
    assert not in_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_accepts_decimals() -> None:
    from decimal import Decimal

    assert wgs84_to_gcj02(Decimal("39.915"), Decimal("116.404")) == pytest.approx(BEIJING_GCJ)


def test_distance() -> None:
    assert distance_m(30.0, 114.0, 30.0, 114.0) == 0.0
    # One degree of latitude is ~111.2 km on the mean sphere.
    assert distance_m(30.0, 114.0, 31.0, 114.0) == pytest.approx(111_195, rel=1e-3)
    # Wuhan → Beijing, about 1,050 km.
    assert 1_000_000 < distance_m(*WUHAN_WGS, *BEIJING_WGS) < 1_100_000


@given(
    lat=st.floats(min_value=4.0, max_value=53.4, allow_nan=False),
    lng=st.floats(min_value=74.0, max_value=134.9, allow_nan=False),
)
def test_round_trip_property(lat: float, lng: float) -> None:
    back_lat, back_lng = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))
    assert abs(back_lat - lat) < 1e-5
    assert abs(back_lng - lng) < 1e-5
    # and the other way round
    fwd_lat, fwd_lng = wgs84_to_gcj02(*gcj02_to_wgs84(lat, lng))
    assert abs(fwd_lat - lat) < 1e-5
    assert abs(fwd_lng - lng) < 1e-5
