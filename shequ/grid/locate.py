"""Point-in-grid: which unit grid a reported location lies in.

The unit grids' polygons are loaded once into a shapely STRtree (an R-tree packed by the
Sort-Tile-Recursive algorithm); a look-up asks the tree for the few grids whose bounding boxes
hold the point and tests only those. The index is rebuilt when the grids change: every look-up
compares a cheap fingerprint (count and latest update of the grids), at most once per
`CHECK_SECONDS`, so an edited boundary is seen within seconds by every process.

PostGIS is not used: this machine's PostgreSQL has no PostGIS, and the tree answers in
microseconds from memory (see bench/grid.py).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Max
from shapely.geometry import shape

from shequ.places.choices import PlaceKind
from shequ.places.models import Place

CHECK_SECONDS = 5.0
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class GridIndex:
    codes: list[str]
    names: list[str]
    geometries: np.ndarray
    tree: shapely.STRtree

    def locate(self, longitude: float, latitude: float) -> int | None:
        """The position of the grid holding the point, or None. A point on a shared edge
        belongs to the grid with the smallest code, so the answer never depends on load order."""
        hits = self.tree.query(shapely.Point(longitude, latitude), predicate="intersects")
        if len(hits) == 0:
            return None
        return int(min(hits))  # codes are sorted, so the smallest index is the smallest code

    def locate_many(self, longitudes: np.ndarray, latitudes: np.ndarray) -> list[int | None]:
        """Vectorised look-up for bulk work (imports, the benchmark)."""
        points = shapely.points(longitudes, latitudes)
        point_idx, grid_idx = self.tree.query(points, predicate="intersects")
        result: list[int | None] = [None] * len(points)
        for p, g in zip(point_idx.tolist(), grid_idx.tolist(), strict=True):
            current = result[p]
            if current is None or g < current:
                result[p] = g
        return result


def build_index(rows: list[tuple[str, str, dict]]) -> GridIndex:
    """An index over (code, name, GeoJSON geometry) rows, sorted by code."""
    rows = sorted(rows, key=lambda row: row[0])
    geometries = np.array([shape(geometry) for _, _, geometry in rows], dtype=object)
    return GridIndex(
        codes=[code for code, _, _ in rows],
        names=[name for _, name, _ in rows],
        geometries=geometries,
        tree=shapely.STRtree(geometries),
    )


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: GridIndex | None = None
        self.fingerprint: tuple | None = None
        self.checked_at = 0.0

    def clear(self) -> None:
        with self.lock:
            self.index, self.fingerprint, self.checked_at = None, None, 0.0


_cache = _Cache()


def _grids():
    return Place.objects.filter(kind=PlaceKind.GRID, is_active=True, geometry__isnull=False)


def grid_index() -> GridIndex:
    now = time.monotonic()
    if _cache.index is not None and now - _cache.checked_at < CHECK_SECONDS:
        return _cache.index
    with _cache.lock:
        summary = _grids().aggregate(n=Count("id"), latest=Max("updated_at"))
        fingerprint = (summary["n"], summary["latest"])
        if _cache.index is None or fingerprint != _cache.fingerprint:
            rows = list(_grids().values_list("code", "name", "geometry"))
            _cache.index = build_index(rows)
            _cache.fingerprint = fingerprint
        _cache.checked_at = now
        return _cache.index


def clear_cache() -> None:
    _cache.clear()


@dataclass(frozen=True)
class Located:
    code: str
    name: str


def locate(longitude: float, latitude: float) -> Located | None:
    """The unit grid (code and name) at a WGS 84 point, or None outside every grid."""
    index = grid_index()
    position = index.locate(longitude, latitude)
    if position is None:
        return None
    return Located(index.codes[position], index.names[position])


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(longitude: float, latitude: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lon, max lon, min lat, max lat) of a square holding the circle, for an index scan."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(latitude)), 1e-6)))
    return longitude - dlon, longitude + dlon, latitude - dlat, latitude + dlat
