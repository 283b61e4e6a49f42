from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from shequ.affairs import services
from shequ.affairs.models import Case, Inquiry, Matter, MatterMaterial, OneTimeNotice
from shequ.affairs.processes import SUBTASK_KIND
from shequ.audit.models import AccessLog
from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.core.idnumbers import make_resident_id
from shequ.workorders import services as engine
from shequ.workorders.choices import CLOSED, RatingLevel, StatusGroup
from shequ.workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

ELDER_ID = make_resident_id("310101", dt.date(1950, 5, 6), 31)
YOUNG_ID = make_resident_id("310101", dt.date(1990, 1, 1), 42)


def make_matter(code, name, *, on_the_spot=False, cooperating=(), department="civil-affairs"):
    matter = Matter.objects.create(
        code=code,
        name=name,
        category="civil_assistance",
        item_type="payment",
        department_code=department,
        cooperating_departments=list(cooperating),
        promised_days=5,
        on_the_spot=on_the_spot,
        delivery_options=["window", "post"],
    )
    MatterMaterial.objects.create(
        matter=matter, name="居民身份证", form="original", mandatory=True, sort_order=1
    )
    MatterMaterial.objects.create(matter=matter, name="户口簿", form="both", mandatory=True, sort_order=2)
    MatterMaterial.objects.create(matter=matter, name="其他证明", form="copy", mandatory=False, sort_order=3)
    return matter


@pytest.fixture
def matters(demo):
    return {
        "dibao": make_matter("t-dibao", "最低生活保障申请"),
        "jintie": make_matter("t-jintie", "老年综合津贴申领", on_the_spot=True),
        "lianzu": make_matter("t-lianzu", "廉租住房申请", cooperating=["housing"]),
    }


def applicant(id_number=YOUNG_ID, **kwargs):
    data = {"name": "王小明", "id_number": id_number, "phone": "13912345678"}
    data.update(kwargs)
    return services.ApplicantData(**data)


def all_materials(matter):
    return list(matter.materials.values_list("pk", flat=True))


def test_complete_materials_accept_a_case_in_the_back_office(matters, personas):
    result = services.accept(
        by=personas["frontdesk"],
        matter=matters["dibao"],
        applicant=applicant(),
        received=all_materials(matters["dibao"]),
        place_code="310101020001",
    )
    case = result.case
    assert case is not None and result.notice is None
    order = case.order
    assert order.number.startswith("SW") and order.step == "examining"
    assert order.assignee_department.code == "civil-affairs"
    assert order.due_at is not None
    assert list(order.events.values_list("kind", flat=True)) == ["created", "assigned", "accepted"]


def test_missing_mandatory_material_gives_a_one_time_notice_instead(matters, personas):
    matter = matters["dibao"]
    id_card = matter.materials.get(name="居民身份证")
    result = services.accept(
        by=personas["frontdesk"],
        matter=matter,
        applicant=applicant(),
        received=[id_card.pk],
        place_code="310101020001",
    )
    assert result.case is None and not Case.objects.exists()
    notice = result.notice
    assert notice.number.startswith("GZ")
    assert [m["name"] for m in notice.missing] == ["户口簿"]  # only the mandatory one still lacking


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "310101199001011230", "校验位不正确"),
        ("id_number", "31010119900101123", "应为 18 位"),
        ("id_number", "310101199013011231", "出生日期无效"),  # month 13, right check digit
        ("phone", "12345", "联系电话"),
        ("name", " ", "申请人姓名"),
    ],
)
def test_bad_applicant_data_is_named_and_nothing_is_written(matters, personas, field, value, message):
    with pytest.raises(ValidationError) as err:
        services.accept(
            by=personas["frontdesk"],
            matter=matters["dibao"],
            applicant=applicant(**{field: value}),
            received=all_materials(matters["dibao"]),
            place_code="310101020001",
        )
    assert message in " ".join(err.value.message_dict[field])
    assert not WorkOrder.objects.exists() and not OneTimeNotice.objects.exists()


def test_chongming_id_numbers_are_accepted_although_stdnum_lacks_the_code(matters, personas):
    """python-stdnum 2.2's area table has no 310151 (崇明区, since 2016)."""
    chongming = make_resident_id("310151", dt.date(1980, 2, 3), 11)
    result = services.accept(
        by=personas["frontdesk"],
        matter=matters["dibao"],
        applicant=applicant(id_number=chongming),
        received=all_materials(matters["dibao"]),
        place_code="310101020001",
    )
    assert result.case.id_number == chongming


def test_on_the_spot_matter_is_finished_at_the_desk(matters, personas):
    result = services.accept(
        by=personas["frontdesk"],
        matter=matters["jintie"],
        applicant=applicant(),
        received=all_materials(matters["jintie"]),
        place_code="310101020001",
        finish_on_spot=True,
    )
    case = result.case
    assert case.on_the_spot and case.decision == "approved"
    assert case.order.status == StatusGroup.CLOSED and case.order.closed_on_time
    with pytest.raises(ValidationError, match="不能当场办结"):
        services.accept(
            by=personas["frontdesk"],
            matter=matters["dibao"],
            applicant=applicant(),
            received=all_materials(matters["dibao"]),
            place_code="310101020001",
            finish_on_spot=True,
        )


def test_desk_of_another_street_cannot_accept_here(matters, personas):
    with pytest.raises(PermissionDenied):
        services.accept(
            by=personas["frontdesk_b"],
            matter=matters["dibao"],
            applicant=applicant(),
            received=all_materials(matters["dibao"]),
            place_code="310101020001",
        )


def test_back_office_decides_and_the_desk_delivers(matters, personas):
    case = services.accept(
        by=personas["frontdesk"],
        matter=matters["dibao"],
        applicant=applicant(),
        received=all_materials(matters["dibao"]),
        place_code="310101020001",
        delivery_method="post",
        delivery_address="瞿溪路100弄1号",
    ).case
    engine.perform(order=case.order, by=personas["backoffice"], action="approve")
    case.refresh_from_db()
    assert case.decision == "approved" and case.order.step == "delivering"
    with pytest.raises(ValidationError, match="快递单号"):
        services.deliver(case=case, by=personas["frontdesk"])
    case = services.deliver(case=case, by=personas["frontdesk"], tracking_number="SF1234567890")
    assert case.order.step == CLOSED and case.tracking_number == "SF1234567890"
    rating = engine.rate(order=case.order, level=RatingLevel.VERY_SATISFIED)
    assert rating.follow_up is None


def test_coordination_splits_and_joins(matters, personas):
    case = services.accept(
        by=personas["frontdesk"],
        matter=matters["lianzu"],
        applicant=applicant(),
        received=all_materials(matters["lianzu"]),
        place_code="310101020001",
    ).case
    subtasks = services.coordinate(case=case, by=personas["backoffice"])
    assert sorted(t.assignee_department.code for t in subtasks) == ["civil-affairs", "housing"]
    assert all(t.kind == SUBTASK_KIND and t.parent_id == case.pk for t in subtasks)
    civil = next(t for t in subtasks if t.assignee_department.code == "civil-affairs")
    housing = next(t for t in subtasks if t.assignee_department.code == "housing")
    engine.perform(order=civil, by=personas["backoffice"], action="agree")
    case.order.refresh_from_db()
    assert case.order.step == "coordinating"  # still waiting for housing
    engine.perform(order=housing, by=personas["leader"], action="disagree", comment="不符合住房困难标准")
    case.refresh_from_db()
    assert case.order.step == "delivering" and case.decision == "rejected"
    with pytest.raises(ValidationError, match="没有协同科室"):
        services.coordinate(
            case=services.accept(
                by=personas["frontdesk"],
                matter=matters["dibao"],
                applicant=applicant(),
                received=all_materials(matters["dibao"]),
                place_code="310101020001",
            ).case,
            by=personas["backoffice"],
        )


def test_proxy_prompt_for_elders_and_disabled():
    assert "76 周岁" in services.proxy_prompt(applicant(ELDER_ID), today=dt.date(2026, 11, 23))
    assert services.proxy_prompt(applicant(YOUNG_ID), today=dt.date(2026, 11, 23)) is None
    assert "残疾人" in services.proxy_prompt(applicant(YOUNG_ID), disabled=True)


def test_home_visit_pauses_the_clock(matters, personas):
    case = services.accept(
        by=personas["frontdesk"],
        matter=matters["dibao"],
        applicant=applicant(ELDER_ID),
        received=all_materials(matters["dibao"]),
        place_code="310101020001",
    ).case
    from django.utils import timezone

    case = services.book_home_visit(
        case=case, by=personas["backoffice"], when=timezone.now() + dt.timedelta(days=1)
    )
    assert case.home_visit_at and case.order.status == StatusGroup.PAUSED


def test_inquiry_is_recorded_with_the_first_person_asked(matters, personas):
    with pytest.raises(ValidationError) as err:
        services.record_inquiry(by=personas["frontdesk"], place_code="310101020", question="", answer="")
    assert set(err.value.message_dict) == {"question", "answer"}
    inquiry = services.record_inquiry(
        by=personas["frontdesk"],
        place_code="310101020",
        question="低保怎么申请？",
        answer="见告知书",
        matter=matters["dibao"],
    )
    assert inquiry.staff_name == "张丽" and Inquiry.objects.count() == 1


# ------------------------------------------------------------------------------- pages


def desk_post(client, matter, **overrides):
    data = {
        "matter": matter.pk,
        "place_code": "310101020001",
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": YOUNG_ID,
        "phone": "13912345678",
        "received": all_materials(matter),
        "delivery_method": "window",
        FORM_FIELD: new_key(),
    }
    data.update(overrides)
    return client.post(reverse("affairs:desk"), data)


def test_desk_double_click_accepts_once(matters, client_as):
    client = client_as("frontdesk")
    data = {FORM_FIELD: new_key()}
    first = desk_post(client, matters["dibao"], **data)
    second = desk_post(client, matters["dibao"], **data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Case.objects.count() == 1


def test_desk_shows_field_errors_in_chinese(matters, client_as):
    response = desk_post(client_as("frontdesk"), matters["dibao"], id_number="310101199001011230")
    assert response.status_code == 200
    assert "校验位不正确" in response.content.decode()
    assert not Case.objects.exists()


def test_desk_materials_partial(matters, client_as):
    page = client_as("frontdesk").get(reverse("affairs:materials"), {"matter": matters["dibao"].pk})
    assert "户口簿" in page.content.decode()


def test_desk_is_for_desk_staff_only(client_as, matters):
    assert client_as("inspector").get(reverse("affairs:desk")).status_code == 403
    assert client_as("frontdesk").get(reverse("affairs:desk")).status_code == 200


def test_case_page_masks_and_reveal_is_logged(matters, client_as):
    client = client_as("frontdesk")
    desk_post(client, matters["dibao"])
    case = Case.objects.get()
    page = client.get(reverse("affairs:case", args=[case.order.number])).content.decode()
    assert YOUNG_ID not in page and "13912345678" not in page and "139****5678" in page
    revealed = client.post(
        reverse("affairs:reveal", args=[case.order.number]), {"field": "id_number", "purpose": "核对身份"}
    )
    assert YOUNG_ID in revealed.content.decode()
    assert AccessLog.objects.get().fields == ["id_number"]
    assert client_as("frontdesk_b").get(reverse("affairs:case", args=[case.order.number])).status_code == 404


def test_stats_count_on_the_spot_and_satisfaction(matters, personas, client_as):
    from django.utils import timezone

    for i in range(3):
        case = services.accept(
            by=personas["frontdesk"],
            matter=matters["jintie"],
            applicant=applicant(),
            received=all_materials(matters["jintie"]),
            place_code="310101020001",
            finish_on_spot=True,
        ).case
        engine.rate(order=case.order, level=[5, 4, 1][i])
    services.accept(
        by=personas["frontdesk"],
        matter=matters["dibao"],
        applicant=applicant(),
        received=all_materials(matters["dibao"]),
        place_code="310101020001",
    )
    today = timezone.localdate()
    response = client_as("manager").get(reverse("affairs:stats"), {"year": today.year, "month": today.month})
    report = response.context["report"]
    assert (report.total.accepted, report.total.on_the_spot, report.total.rated, report.total.bad) == (
        4,
        3,
        3,
        1,
    )
    assert report.total.on_spot_rate == 0.75 and round(report.total.satisfaction, 3) == 0.667
    staff = next(r for r in report.by_staff if r.label == "张丽")
    assert staff.accepted == 4
    xlsx = client_as("manager").get(
        reverse("affairs:stats"), {"year": today.year, "month": today.month, "format": "xlsx"}
    )
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(xlsx.content))
    assert book.sheetnames == ["按人员", "按事项", "按科室"]
    assert client_as("frontdesk").get(reverse("affairs:stats")).status_code == 403
