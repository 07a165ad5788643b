"""Where a point or a place lies in the place tree: the grid 网格 a place belongs to, or the
place a point falls in. Any app that files something by location (needs, patrol findings,
bookings) asks here.

A point is taken whenever it falls inside the territory the platform serves: in a grid's
boundary; else in the nearest grid within ``LINLI_NEAREST_GRID_METRES``; else in the
community whose boundary covers it; else in the street (or town) whose boundary covers it, or
the nearest street within ``LINLI_NEAREST_STREET_METRES`` — filed there "to locate" for the
street's staff to place by hand. Only a point outside all of that is refused.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from linli.places.models import KIND_LEVEL, Place, PlaceKind

logger = logging.getLogger(__name__)

#: Metres per degree of latitude (and of longitude at the equator), near enough for a city.
_METRES_PER_DEGREE = 111_320.0
#: Kinds whose boundaries the index keeps, by the part each plays in locating a point.
_GRID_KINDS = (PlaceKind.GRID,)
_COMMUNITY_KINDS = (PlaceKind.COMMUNITY, PlaceKind.VILLAGE)
_STREET_KINDS = (PlaceKind.STREET, PlaceKind.TOWN)
_INDEXED = _GRID_KINDS + _COMMUNITY_KINDS + _STREET_KINDS


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_TRIAGE_RECHECK_SECONDS", 5.0))


@dataclass
class _Layer:
    """The places of some kinds with a boundary, as prepared shapely geometries in an STRtree."""

    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    geometries: Any = None  # numpy array of prepared shapely geometries
    tree: Any = None  # shapely STRtree over them

    def covering(self, lat: float, lng: float, *, within: str | None) -> int | None:
        """The place whose boundary covers the point; among several, one under ``within``
        (a path prefix) first, then the smallest."""
        import shapely

        if self.tree is None:
            return None
        point = shapely.Point(lng, lat)
        hits = [int(i) for i in self.tree.query(point) if shapely.covers(self.geometries[i], point)]
        if not hits:
            return None
        best = min(
            hits,
            key=lambda i: (not (within and self.paths[i].startswith(within)), shapely.area(self.geometries[i])),
        )
        return self.ids[best]

    def nearest(self, lat: float, lng: float, *, metres: float, within: str | None) -> tuple[int, float] | None:
        """The place whose boundary lies nearest the point, and how far in metres, if within
        ``metres``; places under ``within`` first. Distances are measured on a local
        equirectangular projection (a degree of longitude is shorter than one of latitude)."""
        import shapely

        if self.tree is None or metres <= 0:
            return None
        x_scale = math.cos(math.radians(lat))
        reach = metres / _METRES_PER_DEGREE
        box = shapely.box(lng - reach / max(x_scale, 0.01), lat - reach, lng + reach / max(x_scale, 0.01), lat + reach)
        candidates = [int(i) for i in self.tree.query(box)]
        if not candidates:
            return None
        origin = shapely.Point(0.0, 0.0)

        def distance(i: int) -> float:
            local = shapely.transform(
                self.geometries[i],
                lambda xy: (xy - [lng, lat]) * [x_scale * _METRES_PER_DEGREE, _METRES_PER_DEGREE],
            )
            return float(shapely.distance(local, origin))

        measured = [(i, distance(i)) for i in candidates]
        inside = [(i, d) for i, d in measured if d <= metres]
        if not inside:
            return None
        best, far = min(inside, key=lambda item: (not (within and self.paths[item[0]].startswith(within)), item[1]))
        return self.ids[best], far


@dataclass
class _Index:
    key: tuple[int, int | None] = (0, None)
    layers: dict[str, _Layer] = field(default_factory=dict)
    checked_at: float = float("-inf")

    def layer(self, name: str) -> _Layer:
        return self.layers.get(name) or _Layer()


class _BoundaryCache:
    """The grids, communities and streets with a boundary, one STRtree per level. Rebuilt when
    the count or the highest id of such places changes (checked at most every few seconds);
    an edit of an existing boundary is seen after :func:`grid_index_clear`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = _Index()

    def forget(self) -> None:
        with self._lock:
            self._index = _Index()

    def current(self) -> _Index:
        with self._lock:
            index = self._index
            if time.monotonic() - index.checked_at < _recheck_seconds():
                return index
            with_boundary = Place.objects.filter(kind__in=_INDEXED, boundary__isnull=False)
            stats = with_boundary.aggregate(n=Count("id"), m=Max("id"))
            key = (stats["n"], stats["m"])
            if key != index.key or index.checked_at == float("-inf"):
                index = self._build(key, with_boundary.values_list("id", "path", "kind", "boundary"))
            index.checked_at = time.monotonic()
            self._index = index
            return index

    @staticmethod
    def _build(key: tuple[int, int | None], rows: Any) -> _Index:
        import numpy as np
        import shapely
        from shapely.geometry import shape

        index = _Index(key=key)
        geometries: dict[str, list[Any]] = {}
        for pk, path, kind, boundary in rows:
            try:
                geometry = shape(boundary)
            except Exception:  # a boundary written around the services' validation
                logger.warning("place %s has an unreadable boundary; skipped", pk)
                continue
            if geometry.is_empty:
                continue
            name = "grid" if kind in _GRID_KINDS else "community" if kind in _COMMUNITY_KINDS else "street"
            layer = index.layers.setdefault(name, _Layer())
            layer.ids.append(pk)
            layer.paths.append(path)
            geometries.setdefault(name, []).append(geometry)
        for name, found in geometries.items():
            layer = index.layers[name]
            layer.geometries = np.array(found, dtype=object)
            shapely.prepare(layer.geometries)
            layer.tree = shapely.STRtree(layer.geometries)
        return index


_boundaries = _BoundaryCache()


def _grid_at(lat: float, lng: float, *, within: str | None) -> int | None:
    """The id of the grid whose boundary covers the point; among overlapping grids, one under
    ``within`` (a path prefix) first, then the smallest."""
    return _boundaries.current().layer("grid").covering(lat, lng, within=within)


def _grid_above(place: Place) -> Place | None:
    """The grid ``place`` lies in (itself when it is one); ``None`` above the grid level."""
    if place.kind == PlaceKind.GRID:
        return place
    steps_up = KIND_LEVEL[place.kind] - KIND_LEVEL[PlaceKind.GRID]
    if steps_up <= 0:
        return None
    return Place.objects.filter(
        path=place.path[: len(place.path) - steps_up * Place.steplen], kind=PlaceKind.GRID
    ).first()


def locate_grid(
    *, place: Place | None, lat: Decimal | float | None = None, lng: Decimal | float | None = None
) -> Place | None:
    """The grid 网格 a need belongs to: ``place`` itself when it is a grid, its grid ancestor
    when it is a building, courtyard or household; otherwise the grid whose boundary
    (WGS-84) contains the point, preferring grids under ``place``; otherwise None."""
    if place is not None:
        grid = _grid_above(place)
        if grid is not None:
            return grid
    if lat is None or lng is None:
        return None
    pk = _grid_at(float(lat), float(lng), within=place.path if place is not None else None)
    return Place.objects.filter(pk=pk).first() if pk is not None else None


class How:
    """How :func:`locate` found the place."""

    PLACE = "place"  # the place given, at or below a grid
    COVERED = "covered"  # the grid whose boundary covers the point
    NEAREST = "nearest"  # the nearest grid within LINLI_NEAREST_GRID_METRES
    COMMUNITY = "community"  # a community, given or covering the point, with no grid
    STREET = "street"  # a street covering (or near) the point: to locate by hand


@dataclass(frozen=True)
class Located:
    """Where something is filed: ``place`` (the most precise node known), the ``grid`` that
    handles it (``None`` at a community or street), how it was found, and for the nearest
    grid how far the point was from its boundary."""

    place: Place
    grid: Place | None
    how: str
    metres: float | None = None

    @property
    def to_locate(self) -> bool:
        """Filed at a street for its staff to place by hand."""
        return self.how == How.STREET


def locate(
    *, place: Place | None, lat: Decimal | float | None = None, lng: Decimal | float | None = None
) -> Located | None:
    """Where a report at ``place`` and/or the point (``lat``, ``lng``, WGS-84) is filed.

    A place at or below a grid is taken as it is. Otherwise the point decides, preferring
    places under ``place``: the grid covering it, the nearest grid within
    ``LINLI_NEAREST_GRID_METRES``, the community given or covering it, the street covering it
    or nearest within ``LINLI_NEAREST_STREET_METRES``. ``None`` when neither the place nor the
    point says anything the platform can file (no place and a point outside every street)."""
    if place is not None:
        grid = _grid_above(place)
        if grid is not None:
            return Located(place=place, grid=grid, how=How.PLACE)
    within = place.path if place is not None else None
    if lat is not None and lng is not None:
        la, lo = float(lat), float(lng)
        index = _boundaries.current()
        pk = index.layer("grid").covering(la, lo, within=within)
        how, metres = How.COVERED, None
        if pk is None:
            near = index.layer("grid").nearest(
                la, lo, metres=float(getattr(settings, "LINLI_NEAREST_GRID_METRES", 150)), within=within
            )
            if near is not None:
                (pk, metres), how = near, How.NEAREST
        if pk is not None:
            grid = Place.objects.get(pk=pk)
            if place is None or grid.path.startswith(place.path):
                return Located(place=grid, grid=grid, how=how, metres=metres)
        if place is None or place.kind not in _COMMUNITY_KINDS:
            pk = index.layer("community").covering(la, lo, within=within)
            community = Place.objects.get(pk=pk) if pk is not None else None
            if community is not None and (place is None or community.path.startswith(place.path)):
                return Located(place=community, grid=None, how=How.COMMUNITY)
        if place is None:
            street = index.layer("street").covering(la, lo, within=None)
            if street is None:
                near = index.layer("street").nearest(
                    la, lo, metres=float(getattr(settings, "LINLI_NEAREST_STREET_METRES", 2000)), within=None
                )
                street = near[0] if near is not None else None
            if street is not None:
                return Located(place=Place.objects.get(pk=street), grid=None, how=How.STREET)
    if place is not None and place.kind in _COMMUNITY_KINDS:
        return Located(place=place, grid=None, how=How.COMMUNITY)
    if place is not None and place.kind in _STREET_KINDS and lat is not None and lng is not None:
        return Located(place=place, grid=None, how=How.STREET)
    return None


def grid_index_clear() -> None:
    """Forget this process's boundary index (tests, or after editing a boundary)."""
    _boundaries.forget()
