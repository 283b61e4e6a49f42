"""Shared pieces of grid management's tests: a photo, a point inside a demo grid, a report."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from shapely.geometry import shape

from shequ.grid import locate
from shequ.grid.choices import ReporterKind
from shequ.grid.services import ReportInput, submit_report
from shequ.places.models import Place

GRID = "310101020001003"  # 桥一第3网格, patrolled by the demo inspector
CLASS = "06010"  # 暴露垃圾, default department: sanitation


def photo(name: str = "site.jpg", color: str = "green") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def point_in(code: str) -> tuple[float, float]:
    """A point well inside the grid `code` (its representative point)."""
    geometry = shape(Place.objects.get(code=code).geometry)
    p = geometry.representative_point()
    return p.x, p.y


@pytest.fixture(autouse=True)
def _class_tables(request):
    """The class tables come from a data migration; a transactional test elsewhere in the run
    (live server, concurrency) flushes every table when it ends, so put them back if gone."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from shequ.grid.classes import load
    from shequ.grid.models import ManagementClass

    if not ManagementClass.objects.exists():
        load()


@pytest.fixture(autouse=True)
def _fresh_grid_index():
    locate.clear_cache()
    yield
    locate.clear_cache()


@pytest.fixture
def make_report(personas):
    def make(code: str = GRID, class_code: str = CLASS, by: str = "inspector", offset: float = 0.0, **kwargs):
        lon, lat = point_in(code)
        data = ReportInput(
            class_code=class_code,
            reporter_kind=kwargs.pop("reporter_kind", ReporterKind.INSPECTOR),
            longitude=lon + offset,
            latitude=lat,
            description=kwargs.pop("description", "路边有一堆暴露垃圾"),
            photos=kwargs.pop("photos", [photo()]),
            **kwargs,
        )
        return submit_report(by=personas[by], data=data)

    return make
