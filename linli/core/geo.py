"""Coordinates as they arrive from Chinese maps: GCJ-02 ↔ WGS-84, and distances.

Maps and phones in China (AMap/高德, Tencent, the WeChat location picker) report GCJ-02
("Mars coordinates" 火星坐标), an obfuscated datum offset from WGS-84 by a few hundred metres.
Place boundaries and need points are stored in WGS-84, so a point taken from such a map is
converted with :func:`gcj02_to_wgs84` first. The forward transform is the standard published
one (the same constants as every open implementation); it has no closed-form inverse, so the
inverse is found by fixed-point iteration. Outside China's bounding box GCJ-02 is WGS-84.
"""

from __future__ import annotations

import math
from decimal import Decimal

#: Coordinates are accepted as floats or as the Decimals of model fields.
Degrees = float | Decimal

__all__ = ["Degrees", "distance_m", "gcj02_to_wgs84", "in_china", "wgs84_to_gcj02"]

# Krasovsky 1940 ellipsoid, as the GCJ-02 transform uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
_EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG), for haversine
_INVERSE_TOLERANCE = 1e-7  # degrees; ~1 cm
_INVERSE_MAX_STEPS = 30


def in_china(lat: Degrees, lng: Degrees) -> bool:
    """Whether the point lies in the rough bounding box where GCJ-02 applies."""
    return 73.66 < float(lng) < 135.05 and 3.86 < float(lat) < 53.55


def _delta_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: Degrees, lng: Degrees) -> tuple[float, float]:
    """WGS-84 → GCJ-02, as ``(lat, lng)``; unchanged outside China's bounding box."""
    lat, lng = float(lat), float(lng)
    if not in_china(lat, lng):
        return lat, lng
    d_lat = _delta_lat(lng - 105.0, lat - 35.0)
    d_lng = _delta_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: Degrees, lng: Degrees) -> tuple[float, float]:
    """GCJ-02 → WGS-84, as ``(lat, lng)``; unchanged outside China's bounding box.

    Iterates ``wgs -= forward(wgs) - gcj`` from ``wgs = gcj``: the offset changes slowly, so
    each step gains about three orders of magnitude and two or three steps reach 1e-7°.
    """
    lat, lng = float(lat), float(lng)
    if not in_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(_INVERSE_MAX_STEPS):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        e_lat, e_lng = g_lat - lat, g_lng - lng
        w_lat, w_lng = w_lat - e_lat, w_lng - e_lng
        if abs(e_lat) < _INVERSE_TOLERANCE and abs(e_lng) < _INVERSE_TOLERANCE:
            break
    return w_lat, w_lng


def distance_m(lat1: Degrees, lng1: Degrees, lat2: Degrees, lng2: Degrees) -> float:
    """Great-circle distance in metres (haversine on the mean Earth radius)."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lng2) - float(lng1))
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
