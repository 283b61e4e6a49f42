"""Evaluation against a known data set: five reports built through the services at fixed times
(on-time and late handling, a return, a rework, a void, one dispatched before the period), with
every counter, rate and composite asserted, and the same numbers in the Excel export."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from shequ.accounts.models import Department
from shequ.grid import services
from shequ.grid.choices import ReporterKind
from shequ.grid.evaluation import DEPARTMENT, GRID, INSPECTOR, STREET, Row, evaluate
from shequ.grid.models import Dispatch, GridReport
from shequ.workorders import services as engine

from .conftest import photo

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
G1 = "310101020001003"
G2 = "310101020002001"
MARCH = (dt.datetime(2025, 3, 1, tzinfo=TZ), dt.datetime(2025, 4, 1, tzinfo=TZ))


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=TZ)


def _finish(report, by, when, traveller):
    traveller.move_to(when)
    return services.finish_handling(report=report, by=by, result="已处置", photos=[photo("after.jpg")])


def _close(report, p, traveller, when):
    traveller.move_to(when)
    report = services.act(report=report, by=p["dispatcher"], action="forward")
    report = services.act(report=report, by=p["inspector"], action="pass")
    return services.act(report=report, by=p["supervisor"], action="close")


@pytest.fixture
def known(make_report, personas):
    """A: on time and closed; B: late, failed verification, rework on time, closed (overdue once);
    C: returned by municipal, re-dispatched to sanitation, still handling; D: voided (resident);
    E: filed and dispatched in February, handled late on 3 March."""
    p = personas
    sanitation = Department.objects.get(place__code="310101020", code="sanitation")
    municipal = Department.objects.get(place__code="310101020", code="municipal")
    with time_machine.travel(at(26, 9, month=2), tick=False) as traveller:
        e = make_report(G1)
        e = services.file_report(report=e, by=p["supervisor"])
        e = services.dispatch(report=e, by=p["dispatcher"], department=sanitation)

        traveller.move_to(at(3, 9))
        a = make_report(G1)
        b = make_report(G1, offset=0.0001)
        c = make_report(G2)
        d = make_report(G2, by="resident", reporter_kind=ReporterKind.RESIDENT, offset=0.0002)
        traveller.move_to(at(3, 9, 10))
        for r in (a, b, c):
            services.file_report(report=r, by=p["supervisor"])
        services.void_report(report=d, by=p["supervisor"], reason="重复举报")
        traveller.move_to(at(3, 9, 20))
        a, b, c = (GridReport.objects.get(pk=r.pk) for r in (a, b, c))
        a = services.dispatch(report=a, by=p["dispatcher"], department=sanitation)
        b = services.dispatch(report=b, by=p["dispatcher"], department=sanitation)
        c = services.dispatch(report=c, by=p["dispatcher"], department=municipal)
        traveller.move_to(at(3, 9, 30))
        c = services.return_dispatch(report=c, by=p["admin"], reason="不属于市政设施")
        c = services.dispatch(report=c, by=p["dispatcher"], department=sanitation)

        a = _finish(a, p["handler"], at(3, 10), traveller)
        e = services.finish_handling(report=e, by=p["handler"], result="已处置", photos=[photo()])
        a = _close(a, p, traveller, at(3, 10, 10))

        traveller.move_to(at(14, 9))
        engine.sweep()  # B (and C) are past their handling deadline
        b = _finish(b, p["handler"], at(14, 9, 5), traveller)
        traveller.move_to(at(14, 9, 10))
        b = services.act(report=b, by=p["dispatcher"], action="forward")
        b = services.fail_verification(report=b, by=p["inspector"], reason="仍有垃圾")
        b = _finish(b, p["handler"], at(14, 9, 20), traveller)
        b = _close(b, p, traveller, at(14, 9, 30))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _march(grouping: str):
    return evaluate(
        GridReport.objects.all(), Dispatch.objects.all(), start=MARCH[0], end=MARCH[1], grouping=grouping
    )


def _counters(row: Row) -> tuple:
    return (
        row.reported,
        row.filed,
        row.dispatched,
        row.due_handle,
        row.handled_on_time,
        row.handled,
        row.rework,
        row.due_close,
        row.closed,
        row.closed_on_time,
    )


def test_the_known_data_set_is_what_the_fixture_says(known):
    a, b, e = known["a"], known["b"], known["e"]
    assert a.order.step == b.order.step == "closed"
    assert (a.order.closed_on_time, b.order.closed_on_time) == (True, False)
    assert list(Dispatch.objects.filter(report=b).values_list("handled_on_time", "rework")) == [
        (False, False),
        (True, True),
    ]
    assert Dispatch.objects.get(report=e).handled_on_time is False


def test_per_department(known):
    result = _march(DEPARTMENT)
    sanitation_id = Department.objects.get(place__code="310101020", code="sanitation").pk
    sanitation = next(r for r in result.rows if r.key == sanitation_id)
    # dispatched A, B, B-rework, C-again in March; E (February) counts only as handled
    assert _counters(sanitation) == (None, None, 4, 4, 2, 4, 1, 3, 2, 1)
    assert sanitation.on_time_handling_rate == 0.5
    assert sanitation.closing_rate == pytest.approx(2 / 3)
    assert sanitation.closed_on_time_rate == pytest.approx(1 / 3)
    assert sanitation.rework_rate == 0.25
    assert sanitation.composite == 57.50  # 0.5×60 + 2/3×30 + 0.75×10
    municipal = next(r for r in result.rows if r is not sanitation)
    assert _counters(municipal) == (None, None, 1, 0, 0, 0, 0, 0, 0, 0)
    assert municipal.composite is None
    assert result.rows[-1] is municipal  # undefined composite sorts last
    assert _counters(result.total) == (None, None, 5, 4, 2, 4, 1, 3, 2, 1)
    # C was returned by municipal (退单), counted against municipal only
    assert (municipal.returned, sanitation.returned, result.total.returned) == (1, 0, 1)


def test_per_grid_and_street_and_inspector(known, personas):
    grids = {row.key: row for row in _march(GRID).rows}
    assert _counters(grids[G1]) == (2, 2, 3, 3, 2, 4, 1, 2, 2, 1)
    assert grids[G1].on_time_handling_rate == pytest.approx(2 / 3)
    assert (grids[G1].closing_rate, grids[G1].closed_on_time_rate, grids[G1].rework_rate) == (1.0, 0.5, 0.25)
    assert grids[G1].composite == 77.50  # 2/3×60 + 1×30 + 0.75×10
    assert _counters(grids[G2]) == (2, 1, 2, 1, 0, 0, 0, 1, 0, 0)
    # no handling in G2: the rework part is undefined, the rest scaled to 100
    assert grids[G2].rework_rate is None and grids[G2].composite == 0.0
    assert [row.key for row in _march(GRID).rows] == [G1, G2]

    street = _march(STREET)
    assert [row.key for row in street.rows] == ["310101020"]
    assert _counters(street.rows[0]) == _counters(street.total) == (4, 3, 5, 4, 2, 4, 1, 3, 2, 1)
    assert street.total.composite == 57.50

    people = {row.key: row for row in _march(INSPECTOR).rows}
    assert people[personas["inspector"].pk].reported == 3
    assert people[personas["resident"].pk].reported == 1
    assert people[personas["resident"].pk].filed == 0


def test_a_period_with_nothing_shows_dashes(known):
    result = evaluate(
        GridReport.objects.all(),
        Dispatch.objects.all(),
        start=at(1, 0, month=1),
        end=at(1, 0, month=2),
        grouping=GRID,
    )
    assert result.rows == [] and result.total.composite is None
    assert result.total.display()[-2] == "—"  # the composite; the last column is the return count


def test_the_page_and_the_export_show_the_same_numbers(known, client_as):
    client = client_as("supervisor")
    query = {"start": "2025-03-01", "end": "2025-03-31", "group": GRID}
    page = client.get(reverse("grid:evaluation"), query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "77.50" in html and "66.67%" in html and "25.00%" in html and "桥一第3网格" in html

    response = client.get(reverse("grid:evaluation_export"), query)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    first, total = rows[0], rows[-1]
    assert first[1:11] == [2, 2, 3, 3, 2, 4, 1, 2, 2, 1]
    assert first[11] == pytest.approx(2 / 3) and first[12:15] == [1.0, 0.5, 0.25]
    assert first[15] == 77.5
    assert total[0] == "合计" and total[1:11] == [4, 3, 5, 4, 2, 4, 1, 3, 2, 1] and total[15] == 57.5


def test_default_period_and_access(known, client_as):
    assert client_as("dispatcher").get(reverse("grid:evaluation")).status_code == 200
    assert client_as("inspector").get(reverse("grid:evaluation")).status_code == 403
    assert client_as("resident").get(reverse("grid:evaluation_export")).status_code == 403
    bad = client_as("supervisor").get(
        reverse("grid:evaluation"), {"start": "2025-03-31", "end": "2025-03-01"}
    )
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()


def test_a_street_outside_sees_none_of_it(known, client):
    from shequ.accounts.models import RoleAssignment, User
    from shequ.places.models import Place

    other = User.objects.create_user(username="sup_b", password="x")
    RoleAssignment.objects.create(
        user=other, role="supervision_operator", place=Place.objects.get(code="310101021")
    )
    client.force_login(other)
    response = client.get(reverse("grid:evaluation_export"), {"start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 200
    rows = [
        [c.value for c in row]
        for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=3)
    ]
    assert len(rows) == 1 and rows[0][1:11] == [0] * 10
