"""Where a point or a place lies in the grid 网格 layer: the grid a place belongs to, or the
grid whose boundary polygon (WGS-84) covers a point. Any app that files something by
location (needs, patrol findings, bookings) asks here."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from linli.places.models import KIND_LEVEL, Place, PlaceKind

logger = logging.getLogger(__name__)


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_TRIAGE_RECHECK_SECONDS", 5.0))


@dataclass
class _GridIndex:
    key: tuple[int, int | None] = (0, None)
    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    geometries: Any = None  # numpy array of prepared shapely geometries
    tree: Any = None  # shapely STRtree over them
    checked_at: float = float("-inf")


class _GridCache:
    """The grids with a boundary, as prepared shapely geometries in an STRtree. Rebuilt when
    the count or the highest id of such grids changes (checked at most every few seconds);
    an edit of an existing boundary is seen after :func:`grid_index_clear`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = _GridIndex()

    def forget(self) -> None:
        with self._lock:
            self._index = _GridIndex()

    def current(self) -> _GridIndex:
        with self._lock:
            index = self._index
            if time.monotonic() - index.checked_at < _recheck_seconds():
                return index
            with_boundary = Place.objects.filter(kind=PlaceKind.GRID, boundary__isnull=False)
            stats = with_boundary.aggregate(n=Count("id"), m=Max("id"))
            key = (stats["n"], stats["m"])
            if key != index.key or index.checked_at == float("-inf"):
                index = self._build(key, with_boundary.values_list("id", "path", "boundary"))
            index.checked_at = time.monotonic()
            self._index = index
            return index

    @staticmethod
    def _build(key: tuple[int, int | None], rows: Any) -> _GridIndex:
        import numpy as np
        import shapely
        from shapely.geometry import shape

        index = _GridIndex(key=key)
        geometries = []
        for pk, path, boundary in rows:
            try:
                geometry = shape(boundary)
            except Exception:  # a boundary written around the services' validation
                logger.warning("grid %s has an unreadable boundary; skipped", pk)
                continue
            if geometry.is_empty:
                continue
            index.ids.append(pk)
            index.paths.append(path)
            geometries.append(geometry)
        if geometries:
            index.geometries = np.array(geometries, dtype=object)
            shapely.prepare(index.geometries)
            index.tree = shapely.STRtree(index.geometries)
        return index


_grids = _GridCache()


def _grid_at(lat: float, lng: float, *, within: str | None) -> int | None:
    """The id of the grid whose boundary covers the point; among overlapping grids, one under
    ``within`` (a path prefix) first, then the smallest."""
    import shapely

    index = _grids.current()
    if index.tree is None:
        return None
    point = shapely.Point(lng, lat)
    hits = [int(i) for i in index.tree.query(point) if shapely.covers(index.geometries[i], point)]
    if not hits:
        return None
    best = min(
        hits,
        key=lambda i: (not (within and index.paths[i].startswith(within)), shapely.area(index.geometries[i])),
    )
    return index.ids[best]


def locate_grid(
    *, place: Place | None, lat: Decimal | float | None = None, lng: Decimal | float | None = None
) -> Place | None:
    """The grid 网格 a need belongs to: ``place`` itself when it is a grid, its grid ancestor
    when it is a building, courtyard or household; otherwise the grid whose boundary
    (WGS-84) contains the point, preferring grids under ``place``; otherwise None."""
    if place is not None:
        if place.kind == PlaceKind.GRID:
            return place
        steps_up = KIND_LEVEL[place.kind] - KIND_LEVEL[PlaceKind.GRID]
        if steps_up > 0:
            ancestor = Place.objects.filter(
                path=place.path[: len(place.path) - steps_up * Place.steplen], kind=PlaceKind.GRID
            ).first()
            if ancestor is not None:
                return ancestor
    if lat is None or lng is None:
        return None
    pk = _grid_at(float(lat), float(lng), within=place.path if place is not None else None)
    return Place.objects.filter(pk=pk).first() if pk is not None else None


def grid_index_clear() -> None:
    """Forget this process's grid index (tests, or after editing a boundary)."""
    _grids.forget()
