"""Demo places: 黄浦区 五里桥街道 with six committees and thirty unit grids, plus a small
neighbouring street (打浦桥街道) so that scoping can be seen working.

The committee names are plausible, not an official list. Grid polygons are drawn as a jittered
lattice over the street's real area (WGS 84), numbered west→east, north→south inside each
committee as CJ/T 213 asks; neighbouring cells share their vertices, so the grids tile the
committee without gaps or overlaps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon, mapping
from shapely.ops import unary_union

SEED = 20261123

WULIQIAO = ("310101020", "五里桥街道")
DAPUQIAO = ("310101021", "打浦桥街道")
WULIQIAO_COMMITTEES = ["桥一居委会", "桥二居委会", "桥三居委会", "丽园居委会", "瞿溪居委会", "蒙自居委会"]
DAPUQIAO_COMMITTEES = ["建一居委会", "汇龙居委会"]


@dataclass
class DemoPlace:
    code: str
    name: str
    kind: str
    parent_code: str
    geometry: dict[str, Any] | None


BBox = tuple[float, float, float, float]  # west, south, east, north
Points = dict[tuple[int, int], tuple[float, float]]


def _lattice(bbox: BBox, cols: int, rows: int, rng: random.Random) -> Points:
    """(cols+1) x (rows+1) points; interior points jittered by up to a fifth of a cell."""
    west, south, east, north = bbox
    dx, dy = (east - west) / cols, (north - south) / rows
    points: Points = {}
    for i in range(cols + 1):
        for j in range(rows + 1):
            x, y = west + i * dx, north - j * dy
            if 0 < i < cols:
                x += rng.uniform(-dx / 5, dx / 5)
            if 0 < j < rows:
                y += rng.uniform(-dy / 5, dy / 5)
            points[(i, j)] = (round(x, 6), round(y, 6))
    return points


def _cell(points: Points, i: int, j: int) -> Polygon:
    return Polygon([points[(i, j)], points[(i + 1, j)], points[(i + 1, j + 1)], points[(i, j + 1)]])


def _street(
    code: str, name: str, committees: list[str], bbox: BBox, grids_per_committee: int, rng: random.Random
) -> list[DemoPlace]:
    """One column of cells per committee, `grids_per_committee` rows north→south."""
    points = _lattice(bbox, cols=len(committees), rows=grids_per_committee, rng=rng)
    result: list[DemoPlace] = []
    street_cells = []
    for c, committee_name in enumerate(committees):
        committee_code = f"{code}{c + 1:03d}"
        cells = [_cell(points, c, r) for r in range(grids_per_committee)]
        street_cells.extend(cells)
        result.append(
            DemoPlace(committee_code, committee_name, "committee", code, mapping(unary_union(cells)))
        )
        for r, cell in enumerate(cells):
            short = committee_name.removesuffix("居委会")
            result.append(
                DemoPlace(
                    f"{committee_code}{r + 1:03d}",
                    f"{short}第{r + 1}网格",
                    "grid",
                    committee_code,
                    mapping(cell),
                )
            )
    street = DemoPlace(code, name, "street", code[:6], mapping(unary_union(street_cells)))
    return [street, *result]


def _plain(geometry: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON with lists, not tuples, so it compares equal after a JSON round trip."""
    import json

    return json.loads(json.dumps(geometry))


def demo_places() -> list[DemoPlace]:
    rng = random.Random(SEED)
    places = _street(*WULIQIAO, WULIQIAO_COMMITTEES, (121.4700, 31.1960, 121.4920, 31.2080), 5, rng)
    places += _street(*DAPUQIAO, DAPUQIAO_COMMITTEES, (121.4600, 31.2080, 121.4700, 31.2160), 2, rng)
    for place in places:
        if place.geometry is not None:
            place.geometry = _plain(place.geometry)
    return places
