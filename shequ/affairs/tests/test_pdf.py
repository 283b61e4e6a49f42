"""The printed documents: receipt (收件回执), one-time notice (一次性告知书), service guide (办事指南)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

from shequ.affairs import pdf
from shequ.affairs.models import Case, Matter, MatterMaterial, OneTimeNotice
from shequ.workorders.services import create_order

FULL_ID = "310101199001011234"
MASKED_ID = "310101********1234"
PHONE = "13912345678"
PLACE = "310101020001"
HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None


def text_of(data: bytes) -> str | None:
    """The PDF's text (layout kept), or None when poppler's pdftotext is not installed."""
    if not HAVE_PDFTOTEXT:
        return None
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def matter(db) -> Matter:
    matter = Matter.objects.create(
        code="residence-permit",
        name="居住证办理",
        category="residence",
        item_type="public_service",
        department_code="civil-affairs",
        promised_days=5,
        statutory_days=15,
        conditions="在本市合法稳定居住满六个月。",
        legal_basis="《居住证暂行条例》第九条。",
        procedure=["窗口受理", {"step": "后台审核", "description": "核对材料"}, "结果送达"],
        delivery_options=["window", "post"],
        fee="不收费",
        visits=1,
    )
    for i, name in enumerate(["居民身份证", "租赁合同", "就业证明"], start=1):
        MatterMaterial.objects.create(matter=matter, name=name, form="both", copies=1, sort_order=i)
    return matter


@pytest.fixture
def case(demo, personas, matter) -> Case:
    order = create_order(
        kind="affairs.case",
        by=personas["frontdesk"],
        place_code=PLACE,
        title="居住证办理",
        data={"promised_days": 5},
    )
    return Case.objects.create(
        order=order,
        matter=matter,
        name="王小明",
        id_number=FULL_ID,
        phone=PHONE,
        place_code=PLACE,
        materials_received=list(matter.materials.values_list("pk", flat=True)[:2]),
    )


@pytest.fixture
def notice(demo, matter) -> OneTimeNotice:
    return OneTimeNotice.objects.create(
        number="GZ20261123-0001",
        matter=matter,
        name="王小明",
        id_number=FULL_ID,
        phone=PHONE,
        place_code=PLACE,
        missing=[
            {"name": "户口簿", "form": "both", "copies": 1, "note": "首页及本人页"},
            {"name": "租赁合同备案证明", "form": "original", "copies": 2, "note": ""},
        ],
        note="请于三十日内补正。",
        issued_by_name="张丽",
    )


def assert_private(text: str) -> None:
    flat = squash(text)
    assert FULL_ID not in flat
    assert PHONE not in flat
    assert "王小明" not in flat


def test_receipt_has_the_facts_masked(case):
    url = f"https://shequ.example/track/?number={case.order.number}"
    data = pdf.receipt_pdf(case, tracking_url=url)
    assert data.startswith(b"%PDF")
    text = text_of(data)
    if text is None:
        pytest.skip("pdftotext is not installed")
    flat = squash(text)
    assert "收件回执" in flat
    assert "五里桥街道社区事务受理服务中心" in flat
    # Under the barcode, in the table and in the tracking URL.
    assert flat.count(case.order.number) >= 3
    assert "居住证办理" in flat
    assert MASKED_ID in flat
    assert "王**" in flat
    assert "5个工作日" in flat
    assert "居民身份证" in flat and "租赁合同" in flat
    assert "就业证明" not in flat  # not received
    assert "窗口领取" in flat
    assert "咨询电话：12345" in flat
    assert "凭办件编号及手机号后四位查询" in flat
    assert_private(text)


def test_receipt_barcode_prints_the_number_under_it(case):
    number = case.order.number
    drawing = pdf.barcode_drawing(number)
    barcode = drawing.barcode
    assert isinstance(barcode, Code128)
    assert barcode.value == number
    assert drawing.human_readable.text == number
    # The text sits under the bars.
    assert drawing.human_readable.y < barcode.y
    # Rendered, the drawing carries the number as text next to the drawn bars.
    rendered = renderPDF.drawToString(drawing)
    assert rendered.startswith(b"%PDF")
    text = text_of(rendered)
    if text is not None:
        assert number in squash(text)


def test_qr_drawing_encodes_the_tracking_url():
    url = "https://shequ.example/track/?number=SW20261123-0001"
    drawing = pdf.qr_drawing(url, size=30 * 2.8346)
    assert isinstance(drawing, Drawing)
    widgets = [shape for shape in drawing.contents if isinstance(shape, QrCodeWidget)]
    assert len(widgets) == 1 and widgets[0].value == url
    assert round(drawing.width) == round(30 * 2.8346)


def test_receipt_marks_a_provisional_due_date(case):
    order = case.order
    order.due_provisional = True
    order.save(update_fields=["due_provisional"])
    case.refresh_from_db()
    text = text_of(pdf.receipt_pdf(case, tracking_url="https://x/track/"))
    if text is None:
        pytest.skip("pdftotext is not installed")
    assert "（临时）" in squash(text)


def test_centre_name_falls_back_without_a_known_street(db):
    assert pdf.centre_name("") == "社区事务受理服务中心"
    assert pdf.centre_name("999999999001") == "社区事务受理服务中心"


def test_one_time_notice(notice):
    data = pdf.one_time_notice_pdf(notice)
    assert data.startswith(b"%PDF")
    text = text_of(data)
    if text is None:
        pytest.skip("pdftotext is not installed")
    flat = squash(text)
    assert "一次性告知书" in flat
    assert notice.number in flat
    assert "居住证办理" in flat
    assert MASKED_ID in flat
    assert "户口簿" in flat and "租赁合同备案证明" in flat
    assert "原件及复印件" in flat and "首页及本人页" in flat
    assert "在本市合法稳定居住满六个月" in flat
    assert "《居住证暂行条例》第九条" in flat
    assert "5个工作日" in flat
    assert "告知人：张丽" in flat
    assert "一次性列明" in flat
    assert_private(text)


def test_service_guide_has_every_section(matter):
    data = pdf.service_guide_pdf(matter)
    assert data.startswith(b"%PDF")
    text = text_of(data)
    if text is None:
        pytest.skip("pdftotext is not installed")
    flat = squash(text)
    for heading in (
        "办事指南",
        "基本信息",
        "受理条件",
        "申请材料",
        "办理流程",
        "办理时限",
        "收费标准",
        "送达方式",
        "设定依据",
        "到现场次数",
    ):
        assert heading in flat, heading
    assert "居住证办理" in flat and "就业证明" in flat
    assert "后台审核：核对材料" in flat
    assert "窗口领取、邮寄" in flat
    assert "承诺时限：5个工作日" in flat and "法定时限：15个工作日" in flat


def test_long_tables_flow_onto_further_pages_with_their_header(matter):
    for i in range(80):
        MatterMaterial.objects.create(
            matter=matter, name=f"补充材料第{i}号", form="copy", copies=1, note="说明" * 10, sort_order=10 + i
        )
    data = pdf.service_guide_pdf(matter)
    text = text_of(data)
    if text is None:
        pytest.skip("pdftotext is not installed")
    pages = text.split("\f")
    non_empty = [p for p in pages if p.strip()]
    assert len(non_empty) >= 3
    assert "补充材料第79号" in squash(text)
    # The header row repeats on the page the table continues on.
    assert sum("材料名称" in squash(p) for p in non_empty) >= 2
