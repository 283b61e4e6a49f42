"""The grid pages through the test client: who may open what, errors naming the field, the
whole loop clicked through the case page, the public form and "is it fixed?", the list's queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.accounts.models import Department
from shequ.grid.choices import ReporterKind
from shequ.grid.models import Dispatch, GridReport
from shequ.workorders.choices import CANCELLED, CLOSED
from shequ.workorders.models import WorkOrder

from .conftest import CLASS, GRID, photo, point_in

pytestmark = pytest.mark.django_db


def report_post(client, **change):
    lon, lat = point_in(GRID)
    data = {
        "management_class": CLASS,
        "longitude": str(lon),
        "latitude": str(lat),
        "accuracy": "8",
        "description": "路边有一堆暴露垃圾",
        "photo": [photo()],
        "idempotency_key": change.pop("key", "k-report-0001"),
    } | change
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("grid:report"), data)


def act(client, number, action, **data):
    order = WorkOrder.objects.get(number=number)
    payload = {"version": order.version, "idempotency_key": f"k-{action}-{order.version}-x"} | data
    return client.post(reverse("grid:case_action", args=[number, action]), payload, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------------------------- access


def test_the_report_page_is_for_inspectors_only(client_as, client):
    response = client.get(reverse("grid:report"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_as("resident").get(reverse("grid:report")).status_code == 403
    assert client_as("dispatcher").get(reverse("grid:report")).status_code == 403
    page = client_as("inspector").get(reverse("grid:report"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "06010" in html and "暴露垃圾" in html  # the class picker
    # the inspector's grids are drawn for the map, and only those
    grids = page.context["map_config"]["grids"]
    assert grids and all(g["code"].startswith("310101020001") for g in grids)


def test_a_case_outside_the_users_area_is_404(client_as, make_report):
    report = make_report()
    url = reverse("grid:case", args=[report.order.number])
    assert client_as("frontdesk_b").get(url).status_code == 404
    assert client_as("resident").get(url).status_code == 404
    assert client_as("supervisor").get(url).status_code == 200
    # and acting on it is a 404 too, not a silent change
    response = client_as("frontdesk_b").post(
        reverse("grid:case_action", args=[report.order.number, "file"]), {"version": 0}
    )
    assert response.status_code == 404
    assert WorkOrder.objects.get(pk=report.pk).step == "filing"


def test_the_list_shows_only_cases_in_scope(client_as, make_report):
    report = make_report()
    page = client_as("dispatcher").get(reverse("grid:cases"))
    assert report.order.number in page.content.decode()
    assert report.order.number not in client_as("frontdesk_b").get(reverse("grid:cases")).content.decode()


# ---------------------------------------------------------------------------------- form errors


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"management_class": "99999"}, "management_class", "未知的问题类别"),
        ({"management_class": ""}, "management_class", "请选择问题类别"),
        ({"longitude": None, "latitude": None}, "location", "请提供问题位置"),
        ({"longitude": "100.0", "latitude": "10.0"}, "location", "不在任何单元网格内"),
        ({"longitude": "abc"}, "location", "经度"),
        ({"photo": None}, "photo", "监督员上报须附现场照片"),
        ({"component": "31010101001000001"}, "component", "部件“31010101001000001”不存在"),
    ],
)
def test_form_errors_name_the_field_and_keep_what_was_typed(client_as, change, field, text):
    client = client_as("inspector")
    response = report_post(client, description="井盖边上一堆垃圾", **change)
    assert response.status_code == 400
    assert any(text in e for e in response.context["errors"][field])
    html = response.content.decode()
    assert "井盖边上一堆垃圾" in html  # kept
    assert "请重新选择照片" in html  # photos cannot be kept: say so
    assert not GridReport.objects.exists()


def test_a_report_is_created_once_per_key_and_shows_its_number(client_as):
    client = client_as("inspector")
    first = report_post(client, key="k-same-key-1")
    second = report_post(client, key="k-same-key-1")  # a double tap
    assert first.status_code == second.status_code == 302
    assert GridReport.objects.count() == 1
    number = GridReport.objects.get().order.number
    page = client.get(first["Location"])
    assert number in page.content.decode() and reverse("grid:case", args=[number]) in page.content.decode()


def test_nearby_lists_components_near_the_point(client_as):
    from shequ.grid.models import Component, ManagementClass

    lon, lat = point_in(GRID)
    cls = ManagementClass.objects.get(kind="component", code="01001")
    Component.objects.create(
        identifier="31010101001000001",
        management_class=cls,
        name="供水井盖甲",
        competent_name="水务",
        place_code=GRID,
        initial_date="2024-01-01",
        longitude=lon + 0.0001,
        latitude=lat,
    )
    client = client_as("inspector")
    html = client.get(reverse("grid:nearby"), {"lon": lon, "lat": lat}).content.decode()
    assert "供水井盖甲" in html and 'value="31010101001000001"' in html
    far = client.get(reverse("grid:nearby"), {"lon": lon + 0.01, "lat": lat}).content.decode()
    assert "供水井盖甲" not in far
    # and the component picked is stored on the report
    assert report_post(client, component="31010101001000001").status_code == 302
    assert GridReport.objects.get().component.name == "供水井盖甲"


# ---------------------------------------------------------------------------------- the loop


def test_the_whole_loop_through_the_pages(client_as, make_report):
    number = report_post(client_as("inspector")).url.split("done=")[1]
    report = GridReport.objects.get(order__number=number)
    url = reverse("grid:case", args=[number])

    supervisor = client_as("supervisor")
    page = supervisor.get(url)
    assert "立案条件" in page.content.decode()
    assert [t.action for t in page.context["transitions"]] == ["file", "void"]
    act(supervisor, number, "file")
    assert WorkOrder.objects.get(number=number).step == "dispatching"

    dispatcher = client_as("dispatcher")
    page = dispatcher.get(url)
    assert page.context["suggested"].code == "sanitation"  # preselected from the class
    municipal = Department.objects.get(place__code="310101020", code="municipal")
    sanitation = page.context["suggested"]
    act(dispatcher, number, "dispatch", department=municipal.pk)  # an override
    assert WorkOrder.objects.get(number=number).assignee_department == municipal

    # the wrong department returns it (the admin stands in for municipal's clerk); re-dispatched
    admin = client_as("admin")
    response = act(admin, number, "return", comment="")
    assert any("意见" in m or "理由" in m or "comment" in m.lower() for m in messages_of(response))
    act(admin, number, "return", comment="不属于市政设施")
    assert WorkOrder.objects.get(number=number).step == "dispatching"
    act(client_as("dispatcher"), number, "dispatch", department=sanitation.pk)

    handler = client_as("handler")
    response = act(handler, number, "finish", comment="已清运")  # no after-photo
    assert any("处置后的现场照片" in m for m in messages_of(response))
    assert WorkOrder.objects.get(number=number).step == "handling"
    act(handler, number, "finish", comment="已清运", photo=photo("after.jpg", "blue"))
    assert WorkOrder.objects.get(number=number).step == "feedback"

    act(client_as("dispatcher"), number, "forward")
    inspector = client_as("inspector")
    page = inspector.get(url)
    assert {t.action for t in page.context["transitions"]} == {"pass", "fail"}
    assert [p["before"] for p in page.context["photos"]] == [True, False]
    assert page.context["photos"][1]["src"].startswith("data:image/jpeg;base64,")
    act(inspector, number, "fail", comment="仍有垃圾")
    order = WorkOrder.objects.get(number=number)
    assert order.step == "handling" and order.rework_count == 1 and order.assignee_department == sanitation

    act(client_as("handler"), number, "finish", comment="已彻底清运", photo=photo("again.jpg", "red"))
    act(client_as("dispatcher"), number, "forward")
    act(client_as("inspector"), number, "pass")
    response = act(client_as("supervisor"), number, "close")
    assert "已办理：结案。" in messages_of(response)
    assert WorkOrder.objects.get(number=number).step == CLOSED
    html = client_as("supervisor").get(url).content.decode()
    assert "退单" in html and "返工" in html and "不属于市政设施" in html
    rows = list(
        Dispatch.objects.filter(report=report).order_by("id").values_list("department__code", "rework")
    )
    assert rows == [("municipal", False), ("sanitation", False), ("sanitation", True)]


def test_a_stale_form_and_a_wrong_role_are_refused_with_a_message(client_as, make_report):
    report = make_report()
    number = report.order.number
    response = act(client_as("dispatcher"), number, "file")
    assert response.status_code == 200 and messages_of(response)
    assert WorkOrder.objects.get(number=number).step == "filing"
    supervisor = client_as("supervisor")
    act(supervisor, number, "file")
    stale = supervisor.post(
        reverse("grid:case_action", args=[number, "void"]),
        {"version": 0, "comment": "重复", "idempotency_key": "k-stale-0001"},
        follow=True,
    )
    assert messages_of(stale) and WorkOrder.objects.get(number=number).step == "dispatching"
    # a department that is not the report's area's is refused, naming the field
    foreign = Department.objects.exclude(place__code__in=["310101020", "310101"]).first()
    if foreign is not None:
        response = act(client_as("dispatcher"), number, "dispatch", department=foreign.pk)
        assert any("处置部门" in m for m in messages_of(response))


def test_a_duplicate_is_merged_from_the_filing_form(client_as, make_report):
    first = make_report()
    second = make_report(offset=0.0001)
    supervisor = client_as("supervisor")
    page = supervisor.get(reverse("grid:case", args=[second.order.number]))
    assert [r for r, _ in page.context["duplicates"]] == [first]
    act(supervisor, second.order.number, "merge", merge_into=first.order.number)
    second.refresh_from_db()
    assert second.order.step == CANCELLED and second.merged_into == first


# ---------------------------------------------------------------------------------- public


def test_a_resident_reports_without_an_account_and_answers_not_fixed(client, client_as, personas):
    from shequ.grid import services

    url = reverse("grid:public_report", args=["310101020"])
    assert client.get(url).status_code == 200
    assert client.get(reverse("grid:public_report", args=["999999999"])).status_code == 404
    lon, lat = point_in(GRID)
    base = {"management_class": CLASS, "longitude": lon, "latitude": lat, "reporter_phone": "13912345678"}
    # the honeypot, and a point in another street, create nothing
    assert client.post(url, base | {"website": "http://spam"}).status_code == 400
    other = point_in("310101021001001") if _exists("310101021001001") else (lon + 1, lat)
    response = client.post(url, base | {"longitude": other[0], "latitude": other[1]})
    assert response.status_code == 400 and "location" in response.context["errors"]
    assert not GridReport.objects.exists()

    response = client.post(
        url, base | {"description": "路灯不亮", "idempotency_key": "k-public-001"}, follow=True
    )
    report = GridReport.objects.get()
    assert report.reporter_kind == ReporterKind.RESIDENT and report.reporter_user is None
    html = response.content.decode()
    assert report.order.number in html and "13912345678" not in html
    followup = reverse("grid:followup", args=[report.followup_token])
    assert response.redirect_chain[-1][0] == followup
    assert "问题是否已经解决" not in html  # not closed yet
    assert client.get(reverse("grid:followup", args=["no-such-token"])).status_code == 404

    report = services.file_report(report=report, by=personas["supervisor"])
    dept = services.suggested_department(report)
    report = services.dispatch(report=report, by=personas["dispatcher"], department=dept)
    report = services.finish_handling(report=report, by=personas["handler"], result="已修", photos=[photo()])
    for action, who in (("forward", "dispatcher"), ("pass", "inspector"), ("close", "supervisor")):
        report = services.act(report=report, by=personas[who], action=action)
    assert "问题是否已经解决" in client.get(followup).content.decode()
    client.post(followup, {"answer": "no", "comment": "晚上还是不亮"})
    report.refresh_from_db()
    assert report.fixed_answer == "no" and report.order.step == "verifying"


def _exists(code):
    from shequ.places.models import Place

    return Place.objects.filter(code=code, geometry__isnull=False).exists()


def test_the_public_form_is_rate_limited(client, demo):
    url = reverse("grid:public_report", args=["310101020"])
    for _ in range(10):
        client.post(url, {"management_class": ""}, REMOTE_ADDR="10.1.1.1")
    response = client.post(url, {"management_class": CLASS}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 400 and "提交过于频繁" in response.content.decode()


# ---------------------------------------------------------------------------------- queries


def test_the_list_reads_a_bounded_number_of_queries(client_as, make_report, django_assert_max_num_queries):
    for i in range(12):
        make_report(offset=0.00001 * i)
    client = client_as("dispatcher")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("grid:cases"))
    assert len(page.context["rows"]) == 12
    with django_assert_max_num_queries(14):
        mine = client.get(reverse("grid:cases"), {"mine": "1", "class": "06", "step": "filing"})
    assert len(mine.context["rows"]) == 0  # filing is the supervision centre's step
    sup = client_as("supervisor").get(reverse("grid:cases"), {"mine": "1", "class": "06010"})
    assert len(sup.context["rows"]) == 12
