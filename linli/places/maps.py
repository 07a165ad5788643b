"""A sketch map of a community drawn from the place tree's own geometry: its grids' boundaries
and its buildings' points, projected into an SVG that a phone shows without any tile server
(see docs/decisions/0010-where-a-need-is.md). A tap on it gives a WGS-84 point back (the page's
script inverts the projection from the numbers kept here).

Any page that asks "where" inside a community (a need, a patrol finding, a booking) can include
``places/_sketch.html`` with a :class:`Sketch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import shape

from linli.places.models import Place, PlaceKind

#: The drawing's width in SVG units; its height follows the area's proportions.
WIDTH = 1000.0
#: A margin around the area, as a share of its larger side.
MARGIN = 0.06
_BUILDING_KINDS = (PlaceKind.BUILDING, PlaceKind.COURTYARD)


@dataclass(frozen=True)
class Mark:
    """A building (or courtyard) on the map: its code, name and position in SVG units."""

    code: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class Area:
    """A grid's outline as an SVG points string, and where to write its name."""

    name: str
    points: str
    x: float
    y: float


@dataclass
class Sketch:
    """What the template draws, and the projection: ``x = (lng - west) * sx``,
    ``y = (north - lat) * sy``."""

    west: float
    north: float
    sx: float
    sy: float
    height: float
    outline: str = ""
    areas: list[Area] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def width(self) -> float:
        return WIDTH

    def project(self, lat: float, lng: float) -> tuple[float, float]:
        return round((lng - self.west) * self.sx, 1), round((self.north - lat) * self.sy, 1)


def _rings(boundary: Any) -> list[list[tuple[float, float]]]:
    """The outer rings of a GeoJSON polygon or multipolygon, as (lng, lat) pairs."""
    try:
        geometry = shape(boundary)
    except Exception:  # a boundary written around the services' validation: not drawn
        return []
    polygons = list(getattr(geometry, "geoms", [geometry]))
    return [[(float(x), float(y)) for x, y in p.exterior.coords] for p in polygons if hasattr(p, "exterior")]


def community_sketch(community: Place) -> Sketch | None:
    """The sketch of ``community``: its outline, its grids and its buildings with a point.
    ``None`` when the community has nothing to draw (no boundary and no building's point).
    Two queries."""
    grids = list(
        Place.objects.filter(path__startswith=community.path, kind=PlaceKind.GRID, boundary__isnull=False)
        .only("name", "boundary")
        .order_by("path")
    )
    buildings = list(
        Place.objects.filter(
            path__startswith=community.path, kind__in=_BUILDING_KINDS, lat__isnull=False, lng__isnull=False
        )
        .only("code", "name", "lat", "lng")
        .order_by("path")
    )
    outline = _rings(community.boundary) if community.boundary else []
    grid_rings = [(g.name, ring) for g in grids for ring in _rings(g.boundary)]
    coords = [xy for ring in outline for xy in ring] + [xy for _n, ring in grid_rings for xy in ring]
    coords += [(float(b.lng), float(b.lat)) for b in buildings]  # type: ignore[arg-type]
    if not coords or (not buildings and not grid_rings):
        return None
    lngs, lats = [c[0] for c in coords], [c[1] for c in coords]
    west, east, south, north = min(lngs), max(lngs), min(lats), max(lats)
    # a degree of longitude is shorter than one of latitude by cos(latitude)
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * squeeze, 1e-5), max(north - south, 1e-5)
    pad = MARGIN * max(span_x, span_y)
    west, east = west - pad / squeeze, east + pad / squeeze
    south, north = south - pad, north + pad
    span_x, span_y = (east - west) * squeeze, north - south
    scale = WIDTH / span_x
    sketch = Sketch(west=west, north=north, sx=scale * squeeze, sy=scale, height=round(span_y * scale, 1))

    def points(ring: list[tuple[float, float]]) -> str:
        return " ".join("{},{}".format(*sketch.project(lat, lng)) for lng, lat in ring)

    if outline:
        sketch.outline = " ".join(points(ring) for ring in outline[:1])
    for name, ring in grid_rings:
        xs = [lng for lng, _lat in ring]
        ys = [lat for _lng, lat in ring]
        x, y = sketch.project(max(ys), sum(xs) / len(xs))
        sketch.areas.append(Area(name=name, points=points(ring), x=x, y=y + 56))
    for b in buildings:
        x, y = sketch.project(float(b.lat), float(b.lng))  # type: ignore[arg-type]
        sketch.marks.append(Mark(code=b.code, name=b.name, x=x, y=y))
    return sketch
