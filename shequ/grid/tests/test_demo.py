"""The grid demo: played through the services, it leaves cases at every stage of the loop, with
returns, rework, escalation, overdue handling, merges and residents' answers; a second load
changes nothing."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from shequ.grid import demo as grid_demo
from shequ.grid import locate
from shequ.grid.models import Component, Dispatch, GridReport, ResponsibilityGrid
from shequ.workorders.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

STAGES = {
    "filing",
    "dispatching",
    "coordinating",
    "handling",
    "feedback",
    "verifying",
    "closing",
    "closed",
    "cancelled",
}


def _counts() -> tuple[int, ...]:
    return (
        Component.objects.count(),
        GridReport.objects.count(),
        WorkOrderEvent.objects.count(),
        Dispatch.objects.count(),
        ResponsibilityGrid.objects.count(),
    )


def test_the_demo_plays_every_stage_and_loads_once(demo_loaded):
    made, seconds = demo_loaded
    assert made > 500
    orders = WorkOrder.objects.filter(kind="grid.report")
    steps = dict(orders.values_list("step").annotate(n=Count("id")))
    assert set(steps) == STAGES, steps
    assert 230 <= sum(steps.values()) <= 350
    assert steps["closed"] > sum(steps.values()) / 2  # most of 60 days' cases are done

    # the loop's detours, as the indicators count them
    assert Dispatch.objects.filter(returned_at__isnull=False).count() >= 10
    assert Dispatch.objects.filter(rework=True).count() >= 10
    assert Dispatch.objects.filter(handled_on_time=False).count() >= 10
    assert orders.filter(step="handling", sla_state="overdue").exists()
    assert orders.filter(ever_overdue=True).count() >= 10
    assert GridReport.objects.filter(merged_into__isnull=False).count() >= 5
    assert set(GridReport.objects.values_list("reporter_kind", flat=True)) == {
        "inspector",
        "resident",
        "staff",
        "open311",
    }
    answers = dict(GridReport.objects.values_list("fixed_answer").annotate(n=Count("pk")))
    assert answers.get("yes", 0) >= 10 and answers.get("no", 0) >= 1
    assert WorkOrderEvent.objects.filter(order__kind="grid.report", kind="reopened").exists()
    assert orders.filter(rework_count__gt=0, step="closed").exists()

    # spread over the last 60 days, nothing in the future, each case in its own grid
    now = timezone.now()
    first = orders.order_by("created_at").first()
    assert first is not None and first.created_at < now - dt.timedelta(days=45)
    assert not WorkOrderEvent.objects.filter(created_at__gt=now).exists()
    assert set(GridReport.objects.values_list("place_code", flat=True)) > {
        "310101020001003",
        "310101020006005",
    }
    for report in GridReport.objects.all()[:50]:
        found = locate.locate(report.longitude, report.latitude)
        assert found is not None and found.code == report.place_code == report.order.place_code

    # components: 17 digits (district, class, serial), inside the grid they name
    components = list(Component.objects.select_related("management_class"))
    assert 250 <= len(components) <= 350
    for c in components:
        assert len(c.identifier) == 17 and c.identifier.isdigit()
        assert c.identifier[:6] == "310101" and c.identifier[6:11] == c.management_class.code
        assert locate.locate(c.longitude, c.latitude).code == c.place_code  # type: ignore[union-attr]
    assert GridReport.objects.filter(component__isnull=False).exists()

    # responsibility grids: one per committee, the demo inspector on 桥一's
    zr01 = ResponsibilityGrid.objects.get(code="ZR01")
    assert ResponsibilityGrid.objects.count() == 6 and zr01.unit_grids.count() == 5
    assert [u.username for u in zr01.inspectors.all()] == ["inspector"]

    # idempotent: a second load makes nothing and changes nothing
    before = _counts()
    assert grid_demo.load() == 0
    assert _counts() == before
    print(f"grid demo: {made} rows in {seconds:.1f} s")


@pytest.fixture
def demo_loaded(demo):
    started = time.perf_counter()
    made = grid_demo.load()
    return made, time.perf_counter() - started


def test_a_plan_left_at_a_stage_stops_there_and_stays_in_office_hours():
    import random

    from shequ.grid.models import ManagementClass

    classes = {"06010": ManagementClass(code="06010", limit=1, limit_unit="days")}
    rng = random.Random(1)
    start = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 0))  # a Monday
    plan = grid_demo.Plan(
        0, "310101020001003", ("06010", ["x"], ["y"]), "inspector", start, target="feedback"
    )
    plan.returned = True
    steps = [action for _, action in grid_demo._schedule(plan, classes, rng)]
    assert steps == ["report", "file", "dispatch", "return", "dispatch", "finish"]
    for moment, _ in grid_demo._schedule(plan, classes, rng)[1:]:
        local = timezone.localtime(moment)
        assert local.weekday() < 5 and dt.time(9) <= local.time() <= dt.time(18, 30)
