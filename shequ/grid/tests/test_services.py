"""The closed loop through the services: intake, filing, merging, dispatch, returns, handling,
verification with rework, closing, and the reporter's "is it fixed?"."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from shequ.accounts.models import Department
from shequ.grid import services
from shequ.grid.choices import FixedAnswer, ReporterKind
from shequ.grid.models import Dispatch, GridReport, ManagementClass
from shequ.grid.services import ReportInput, submit_report
from shequ.workorders.choices import CANCELLED, CLOSED
from shequ.workorders.models import WorkOrder

from .conftest import CLASS, GRID, photo, point_in

pytestmark = pytest.mark.django_db


def test_a_report_lands_in_its_grid_at_filing_with_the_class_limit(make_report):
    report = make_report()
    order = report.order
    assert (order.kind, order.step, order.place_code, report.place_code) == (
        "grid.report",
        "filing",
        GRID,
        GRID,
    )
    assert order.number.startswith("WG")
    assert order.data["class_code"] == CLASS and order.data["limit"] == 1
    assert order.attachments.filter(is_photo=True).count() == 1
    assert report.management_class.name == "暴露垃圾"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"class_code": "99999"}, "management_class"),
        ({"class_code": ""}, "management_class"),
        ({"longitude": None}, "location"),
        ({"longitude": 100.0, "latitude": 10.0}, "location"),  # outside every grid
        ({"photos": [SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo")]}, "photo"),
        ({"photos": [SimpleUploadedFile("x.pdf", b"%PDF-1.4")]}, "photo"),
        ({"photos": []}, "photo"),  # an inspector's report needs a site photo
        ({"component": "31010101001000001"}, "component"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(personas, change, field):
    lon, lat = point_in(GRID)
    values = {
        "class_code": CLASS,
        "reporter_kind": ReporterKind.INSPECTOR,
        "longitude": lon,
        "latitude": lat,
        "photos": [photo()],
    } | change
    with pytest.raises(ValidationError) as caught:
        submit_report(by=personas["inspector"], data=ReportInput(**values))
    assert field in caught.value.message_dict
    assert not WorkOrder.objects.filter(kind="grid.report").exists()
    assert not GridReport.objects.exists()


def test_the_whole_loop_with_a_return_and_a_failed_verification(make_report, personas):
    report = make_report()
    report = services.file_report(report=report, by=personas["supervisor"])
    assert report.order.step == "dispatching" and report.filed_at

    sanitation = services.suggested_department(report)
    assert sanitation is not None and sanitation.code == "sanitation"
    municipal = Department.objects.get(place__code="310101020", code="municipal")
    report = services.dispatch(report=report, by=personas["dispatcher"], department=municipal)
    assert report.order.step == "handling" and report.order.started_at is not None

    # the wrong department returns it, with a reason; the dispatcher re-dispatches
    with pytest.raises(ValidationError):
        services.return_dispatch(report=report, by=personas["admin"], reason="")
    report = services.return_dispatch(report=report, by=personas["admin"], reason="不属于市政设施")
    assert report.order.step == "dispatching" and report.order.return_count == 1
    assert WorkOrder.objects.get(pk=report.pk).assignee_department is None  # back unassigned
    report = services.dispatch(report=report, by=personas["dispatcher"], department=sanitation)

    # the handler must attach an after-photo
    with pytest.raises(ValidationError) as caught:
        services.finish_handling(report=report, by=personas["handler"], result="已清运", photos=[])
    assert "photo" in caught.value.message_dict
    report = services.finish_handling(
        report=report, by=personas["handler"], result="已清运", photos=[photo("after.jpg", "blue")]
    )
    assert report.order.step == "feedback"
    report = services.act(report=report, by=personas["dispatcher"], action="forward")
    assert report.order.step == "verifying"

    # the inspector finds it still there: rework, back to the same department
    report = services.fail_verification(report=report, by=personas["inspector"], reason="仍有垃圾")
    assert report.order.step == "handling" and report.order.rework_count == 1
    assert report.order.assignee_department == sanitation
    report = services.finish_handling(
        report=report, by=personas["handler"], result="已彻底清运", photos=[photo("again.jpg", "red")]
    )
    report = services.act(report=report, by=personas["dispatcher"], action="forward")
    report = services.act(report=report, by=personas["inspector"], action="pass")
    report = services.act(report=report, by=personas["supervisor"], action="close")
    assert report.order.step == CLOSED

    rows = list(
        Dispatch.objects.filter(report=report)
        .order_by("id")
        .values_list("department__code", "returned_at", "rework")
    )
    assert [(code, returned is not None, rework) for code, returned, rework in rows] == [
        ("municipal", True, False),
        ("sanitation", False, False),
        ("sanitation", False, True),
    ]
    assert all(d.handled_at for d in Dispatch.objects.filter(report=report, returned_at__isnull=True))


def test_only_the_right_roles_act(make_report, personas):
    report = make_report()
    with pytest.raises(PermissionDenied):
        services.file_report(report=report, by=personas["dispatcher"])
    with pytest.raises(PermissionDenied):
        services.file_report(report=report, by=personas["inspector"])


def test_duplicates_nearby_are_offered_and_merged(make_report, personas):
    first = make_report()
    second = make_report(offset=0.0001)  # about 10 m east
    far = make_report(code="310101020004002")
    other_class = make_report(class_code="06012")
    found = [r for r, _ in services.duplicates_of(second)]
    assert found == [first]
    assert far not in found and other_class not in found
    merged = services.merge_report(report=second, into=first, by=personas["supervisor"])
    assert merged.order.step == CANCELLED and merged.merged_into == first
    assert services.duplicates_of(first) == []


def test_a_resident_who_says_it_is_not_fixed_reopens_the_case(make_report, personas):
    report = make_report(by="resident", reporter_kind=ReporterKind.RESIDENT, photos=[])
    assert report.followup_token
    report = services.file_report(report=report, by=personas["supervisor"])
    sanitation = services.suggested_department(report)
    report = services.dispatch(report=report, by=personas["dispatcher"], department=sanitation)
    with pytest.raises(PermissionDenied):
        services.answer_fixed(report=report, answer=FixedAnswer.NO)
    report = services.finish_handling(
        report=report, by=personas["handler"], result="已清运", photos=[photo()]
    )
    for action, who in [("forward", "dispatcher"), ("pass", "inspector"), ("close", "supervisor")]:
        report = services.act(report=report, by=personas[who], action=action)
    assert WorkOrder.objects.get(pk=report.pk).step == CLOSED, WorkOrder.objects.get(pk=report.pk).step
    report = services.answer_fixed(report=report, answer=FixedAnswer.NO, comment="还在")
    order = WorkOrder.objects.get(pk=report.pk)
    assert order.step == "verifying" and order.status == "open"
    assert "还在" in order.events.last().comment
    # a second answer changes nothing
    again = services.answer_fixed(report=report, answer=FixedAnswer.YES)
    assert again.fixed_answer == FixedAnswer.NO


def test_the_limit_is_the_class_limit_at_dispatch(make_report, personas):
    cls = ManagementClass.objects.get(kind="item", code=CLASS)
    cls.limit, cls.limit_unit = 4, "hours"
    cls.save()
    report = make_report()
    report = services.file_report(report=report, by=personas["supervisor"])
    report = services.dispatch(
        report=report, by=personas["dispatcher"], department=services.suggested_department(report)
    )
    assert report.order.data["limit"] == 4 and report.order.data["limit_unit"] == "hours"
    assert report.order.step_budget is not None and report.order.step_budget.total_seconds() == 4 * 3600


def test_a_component_far_from_the_point_and_a_bad_email_are_refused(personas):
    import datetime as dt

    from shequ.grid.models import Component

    lon, lat = point_in(GRID)
    manhole = Component.objects.create(
        identifier="31010101001000001",
        management_class=ManagementClass.objects.get(kind="component", code="01001"),
        name="供水井盖",
        competent_name="供水公司",
        place_code=GRID,
        initial_date=dt.date(2020, 1, 1),
        longitude=lon + 0.002,  # about 190 m east
        latitude=lat,
    )
    data = ReportInput(
        class_code="01001",
        reporter_kind=ReporterKind.RESIDENT,
        longitude=lon,
        latitude=lat,
        component=manhole.identifier,
        reporter_email="not-an-email",
    )
    with pytest.raises(ValidationError) as caught:
        submit_report(by=personas["resident"], data=data)
    assert set(caught.value.message_dict) == {"component", "email"}
    assert (
        "190" in caught.value.message_dict["component"][0]
        or "米" in caught.value.message_dict["component"][0]
    )
    data.longitude, data.reporter_email = lon + 0.0019, "someone@example.com"
    report = submit_report(by=personas["resident"], data=data)
    assert report.component == manhole
