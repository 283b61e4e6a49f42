"""Public tracking by number and phone digits: the page, the kiosk, the API and the guessing brake."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from shequ.affairs import tracking
from shequ.affairs.models import Case, Matter
from shequ.workorders.choices import EventKind
from shequ.workorders.services import create_order, record_order_event

FULL_ID = "310101199001011234"
PHONE = "13912345678"
PLACE = "310101020001"
NOT_FOUND = "未找到该办件，请核对编号和手机号后四位。"
LIMITED = "查询过于频繁，请稍后再试。"
API = "/api/v1/track/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(demo, personas) -> Case:
    matter = Matter.objects.create(
        code="residence-permit",
        name="居住证办理",
        category="residence",
        item_type="public_service",
        department_code="civil-affairs",
        promised_days=5,
    )
    order = create_order(
        kind="affairs.case",
        by=personas["frontdesk"],
        place_code=PLACE,
        title="居住证办理",
        data={"promised_days": 5},
    )
    case = Case.objects.create(
        order=order, matter=matter, name="王小明", id_number=FULL_ID, phone=PHONE, place_code=PLACE
    )
    # Timeline entries carrying what the public must never see: staff names and comments.
    record_order_event(
        order, EventKind.COMMENTED, personas["backoffice"], comment="内部备注：申请人电话13912345678"
    )
    record_order_event(
        order,
        EventKind.COMPLETED,
        personas["backoffice"],
        step_from="examining",
        step_to="delivering",
        comment="审核意见：同意",
    )
    order.step = "delivering"
    order.save(update_fields=["step"])
    return case


def post(client, url_name: str, number: str, phone4: str, ip: str = "10.0.0.1"):
    return client.post(reverse(url_name), {"number": number, "phone4": phone4}, REMOTE_ADDR=ip)


def assert_no_personal_data(body: str) -> None:
    for secret in ("王小明", "王**", PHONE, FULL_ID, "139****5678", "张丽", "刘洋", "内部备注", "审核意见"):
        assert secret not in body, secret


# --------------------------------------------------------------------------- lookup


def test_find_case_matches_number_and_last_four_digits(case):
    number = case.order.number
    assert tracking.find_case(number, "5678") == case
    assert tracking.find_case(f"  {number.lower()} ", "5678") == case
    assert tracking.find_case(number, "1234") is None
    assert tracking.find_case("SW19990101-0001", "5678") is None


@pytest.mark.parametrize(
    ("number", "phone4", "field"),
    [
        ("", "5678", "number"),
        ("SW2026?", "5678", "number"),
        ("SW20261123-0001", "567", "phone4"),
        ("SW20261123-0001", "56a8", "phone4"),
        ("SW20261123-0001", "", "phone4"),
    ],
)
def test_find_case_names_the_malformed_field(db, number, phone4, field):
    with pytest.raises(ValidationError) as info:
        tracking.find_case(number, phone4)
    assert field in info.value.message_dict


# --------------------------------------------------------------------------- page


def test_page_shows_the_form_without_login(client, db):
    response = client.get(reverse("tracking:track"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="number"' in body and "autofocus" in body
    assert 'name="phone4"' in body
    assert "phone.focus()" in body  # Enter after a scanned number moves on to the digits


def test_page_shows_progress_without_personal_data(client, case):
    response = post(client, "tracking:track", case.order.number, "5678")
    assert response.status_code == 200
    body = response.content.decode()
    assert case.order.number in body
    assert "居住证办理" in body
    assert "结果送达" in body  # the current step
    assert "办理中" in body  # the status
    assert "后台审核 → 结果送达" in body  # the history's step labels
    assert "办结" in body and "创建" in body  # event kind labels
    assert "no-store" in response["Cache-Control"]
    assert_no_personal_data(body)


def test_wrong_digits_and_wrong_number_look_the_same(client, case):
    wrong_digits = post(client, "tracking:track", case.order.number, "1234")
    wrong_number = post(client, "tracking:track", "SW19990101-0001", "5678")
    assert wrong_digits.status_code == wrong_number.status_code == 200
    for response in (wrong_digits, wrong_number):
        body = response.content.decode()
        assert NOT_FOUND in body
        assert "后台审核" not in body
        assert_no_personal_data(body)


def test_malformed_digits_name_the_field(client, case):
    response = post(client, "tracking:track", case.order.number, "12")
    body = response.content.decode()
    assert "手机号后四位应为 4 位数字" in body
    assert 'id="track-phone4-error"' in body


def test_eleventh_failed_lookup_from_one_ip_is_refused(client, case):
    for _ in range(tracking.FAILED_LIMIT):
        assert post(client, "tracking:track", case.order.number, "0000").status_code == 200
    refused = post(client, "tracking:track", case.order.number, "5678")
    assert refused.status_code == 429
    assert LIMITED in refused.content.decode()
    # Another client is not affected.
    assert post(client, "tracking:track", case.order.number, "5678", ip="10.0.0.2").status_code == 200


def test_successful_lookups_do_not_use_up_the_failures(client, case):
    for _ in range(tracking.FAILED_LIMIT + 5):
        assert post(client, "tracking:track", case.order.number, "5678").status_code == 200
    assert post(client, "tracking:track", case.order.number, "0000").status_code == 200


def test_total_lookups_per_hour_are_capped(client, case, settings):
    for _ in range(tracking.TOTAL_LIMIT):
        assert post(client, "tracking:track", case.order.number, "5678").status_code == 200
    assert post(client, "tracking:track", case.order.number, "5678").status_code == 429


def test_number_prefill_from_the_receipt_qr_code(client, db):
    response = client.get(reverse("tracking:track"), {"number": " sw20261123-0001 "})
    body = response.content.decode()
    assert 'value="SW20261123-0001"' in body
    # The digits come next: the phone field has the focus.
    phone_input = body[body.index('id="track-phone4"') : body.index(">", body.index('id="track-phone4"'))]
    assert "autofocus" in phone_input


def test_kiosk_renders_with_keypad_and_its_stylesheet(client, db):
    response = client.get(reverse("tracking:kiosk"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "css/kiosk.css" in body
    assert 'class="keypad"' in body
    for digit in "0123456789":
        assert f'data-key="{digit}"' in body
    assert "<script src=" not in body.split("</head>", 1)[1]  # no external script in the page body


def test_kiosk_lookup_shows_progress(client, case):
    response = post(client, "tracking:kiosk", case.order.number, "5678")
    body = response.content.decode()
    assert response.status_code == 200
    assert "结果送达" in body and "查询其他办件" in body
    assert_no_personal_data(body)


# --------------------------------------------------------------------------- API


def test_api_returns_the_public_view(client, case):
    response = client.get(API, {"number": case.order.number, "phone4": "5678"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200
    data = response.json()
    assert data["number"] == case.order.number
    assert data["matter"] == "居住证办理"
    assert data["step"] == "delivering" and data["step_label"] == "结果送达"
    assert data["status"] == "open" and data["status_label"] == "办理中"
    assert data["due_provisional"] is False
    kinds = [e["kind"] for e in data["history"]]
    assert kinds == ["created", "completed"]  # the internal note is left out
    assert data["history"][1]["step_from_label"] == "后台审核"
    assert set(data["history"][0]) == {
        "kind",
        "label",
        "at",
        "step_from",
        "step_from_label",
        "step_to",
        "step_to_label",
        "note",
    }
    assert_no_personal_data(response.content.decode())


def test_api_not_found_is_404_in_the_error_shape(client, case):
    for number, digits in ((case.order.number, "0000"), ("SW19990101-0001", "5678")):
        response = client.get(API, {"number": number, "phone4": digits})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_api_malformed_input(client, db):
    response = client.get(API, {"number": "SW20261123-0001", "phone4": "12"})
    assert response.status_code == 400
    assert "phone4" in response.json()["error"]["fields"]
    assert client.get(API, {"number": "SW20261123-0001"}).status_code == 422


def test_api_is_rate_limited_with_the_page(client, case):
    for _ in range(tracking.FAILED_LIMIT):
        post(client, "tracking:track", case.order.number, "0000")
    response = client.get(API, {"number": case.order.number, "phone4": "5678"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert response.json()["error"]["message"] == LIMITED
