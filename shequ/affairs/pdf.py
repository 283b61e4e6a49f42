"""Printed documents of the acceptance centre: the receipt (收件回执), the one-time written notice
(一次性告知书) and the service guide (办事指南).

Pure functions: each takes model instances and returns the bytes of an A4 PDF set in reportlab's
built-in CJK font ``STSong-Light`` (no font files needed). Personal data is printed masked only
(DESIGN §4.7): the applicant's name, identity number and phone never appear in full.
Long tables repeat their header row and flow onto the following pages.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.barcode.widgets import BarcodeCode128
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

from shequ.core.masking import mask_id_number, mask_name

from .choices import DeliveryMethod, IdType, ItemType, MaterialForm, MatterCategory
from .models import Case, Matter, MatterMaterial, OneTimeNotice

FONT = "STSong-Light"
DEFAULT_CENTRE = gettext_lazy("社区事务受理服务中心")
DESK_PHONE = "12345"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
GRID_COLOUR = colors.HexColor("#8a939c")
HEADER_FILL = colors.HexColor("#eef0f3")
LABEL_FILL = colors.HexColor("#f6f7f9")


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


# --------------------------------------------------------------------------- styles and helpers


def _styles() -> dict[str, ParagraphStyle]:
    _register_font()  # paragraphs resolve their font when they are built
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK", alignment=TA_LEFT)
    return {
        "base": base,
        "centre": ParagraphStyle("centre", parent=base, fontSize=12, leading=18, alignment=TA_CENTER),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceBefore=2, spaceAfter=4
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=14, alignment=TA_CENTER),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=13, leading=20, spaceBefore=10, spaceAfter=4, keepWithNext=1
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=14),
        "cell_head": ParagraphStyle("cell_head", parent=base, fontSize=10, leading=14, alignment=TA_CENTER),
        "cell_centre": ParagraphStyle(
            "cell_centre", parent=base, fontSize=10, leading=14, alignment=TA_CENTER
        ),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=9, leading=13, textColor=colors.HexColor("#444c55")
        ),
        "caption": ParagraphStyle("caption", parent=base, fontSize=9, leading=12, alignment=TA_CENTER),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; newlines kept)."""
    return Paragraph(escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>"), style)


def _fmt_dt(value: dt.datetime | None, fmt: str = "%Y年%m月%d日 %H:%M") -> str:
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else (value or "—")


def centre_name(place_code: str | None) -> str:
    """The centre's printed name: the street's name from the place tree, or the generic name."""
    from shequ.places.models import Place

    code = (place_code or "")[:9]
    if len(code) == 9:
        name = Place.objects.filter(code=code).values_list("name", flat=True).first()
        if name:
            return f"{name}{DEFAULT_CENTRE}"
    return str(DEFAULT_CENTRE)


def _department_name(code: str) -> str:
    from shequ.accounts.models import Department

    if not code:
        return "—"
    return Department.objects.filter(code=code).values_list("name", flat=True).first() or code


def _fields_table(rows: Sequence[tuple[str, Any]], styles: dict[str, ParagraphStyle]) -> Table:
    """A two-column label/value table (labels shaded)."""
    data = [
        [_p(label, styles["cell"]), value if isinstance(value, Flowable) else _p(value, styles["cell"])]
        for label, value in rows
    ]
    table = Table(data, colWidths=[32 * mm, CONTENT_WIDTH - 32 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, GRID_COLOUR),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _list_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    styles: dict[str, ParagraphStyle],
    *,
    centred: Sequence[int] = (0,),
    empty: str = "",
) -> Table:
    """A ruled table whose header row repeats on every page it flows onto."""
    data: list[list[Any]] = [[_p(h, styles["cell_head"]) for h in header]]
    for row in rows:
        data.append(
            [
                _p(value, styles["cell_centre"] if i in centred else styles["cell"])
                for i, value in enumerate(row)
            ]
        )
    if len(data) == 1:
        data.append([_p(empty or _("无"), styles["cell_centre"])] + [""] * (len(header) - 1))
    table = Table(data, colWidths=list(widths), repeatRows=1)
    commands: list[tuple] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID_COLOUR),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if len(data) == 2 and data[1][1:] == [""] * (len(header) - 1):
        commands.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(commands))
    return table


def _signature_line(pairs: Sequence[tuple[str, float]], styles: dict[str, ParagraphStyle]) -> Table:
    """Labels each followed by a blank rule to sign or stamp on: ``[(label, rule width), ...]``."""
    cells: list[Any] = []
    widths: list[float] = []
    for label, rule in pairs:
        cells += [_p(label, styles["base"]), ""]
        widths += [styles["base"].fontSize * (len(label) + 1.5), rule]
    table = Table([cells], colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [("LINEBELOW", (i, 0), (i, 0), 0.6, colors.black) for i in range(1, len(cells), 2)]
            + [("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        )
    )
    return table


def _build(story: list[Flowable], *, title: str, footer: str, reference: str = "") -> bytes:
    _register_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=footer,
        subject=reference or title,
        creator="shequ",
    )

    def decorate(canvas: Canvas, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(colors.HexColor("#555e68"))
        canvas.setStrokeColor(colors.HexColor("#c5ccd3"))
        canvas.line(MARGIN, 13 * mm, PAGE_WIDTH - MARGIN, 13 * mm)
        left = f"{footer}  {reference}".strip()
        canvas.drawString(MARGIN, 9 * mm, left)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, _("第 %(page)d 页") % {"page": document.page})
        canvas.restoreState()

    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _heading(
    centre: str, title: str, styles: dict[str, ParagraphStyle], subtitle: str = ""
) -> list[Flowable]:
    parts: list[Flowable] = [_p(centre, styles["centre"]), _p(title, styles["title"])]
    if subtitle:
        parts.append(_p(subtitle, styles["subtitle"]))
    parts.append(Spacer(1, 4 * mm))
    return parts


# --------------------------------------------------------------------------- codes


def barcode_drawing(
    value: str, *, bar_height: float = 15 * mm, bar_width: float = 0.33 * mm, font_size: float = 11
) -> Drawing:
    """The case number as a Code128 barcode with the number printed under it (with a clear gap,
    which the widget's own human-readable line lacks)."""
    bars = BarcodeCode128(
        value=value, barHeight=bar_height, barWidth=bar_width, humanReadable=False, quiet=True
    )
    text_space = font_size * 1.7
    bars.y = text_space
    x1, _y1, x2, _y2 = bars.getBounds()
    drawing = Drawing(x2 - x1, bar_height + text_space)
    drawing.add(bars, name="barcode")
    drawing.add(
        String(
            (x2 - x1) / 2,
            font_size * 0.35,
            value,
            fontName="Helvetica",
            fontSize=font_size,
            textAnchor="middle",
        ),
        name="human_readable",
    )
    return drawing


def qr_drawing(value: str, *, size: float = 30 * mm) -> Drawing:
    """A QR code encoding `value` (the public tracking URL), `size` wide and high."""
    widget = QrCodeWidget(value, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    width, height = x2 - x1, y2 - y1
    drawing = Drawing(
        size, size, transform=[size / width, 0, 0, size / height, -x1 * size / width, -y1 * size / height]
    )
    drawing.add(widget)
    return drawing


# --------------------------------------------------------------------------- receipt


def _promised_days(case: Case) -> int:
    days = (case.order.data or {}).get("promised_days")
    try:
        return int(days) if days else int(case.matter.promised_days)
    except (TypeError, ValueError):
        return int(case.matter.promised_days)


def _received_materials(case: Case) -> list[MatterMaterial]:
    ids = [int(i) for i in (case.materials_received or []) if str(i).isdigit()]
    if not ids:
        return []
    by_id = {m.pk: m for m in MatterMaterial.objects.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def receipt_pdf(case: Case, *, tracking_url: str) -> bytes:
    """收件回执 of an accepted case: barcode of the number, QR code of `tracking_url`, the facts."""
    styles = _styles()
    order = case.order
    matter = case.matter
    centre = centre_name(case.place_code or order.place_code)
    story = _heading(centre, _("收件回执"), styles)

    codes = Table(
        [
            [
                barcode_drawing(order.number),
                [qr_drawing(tracking_url, size=28 * mm), _p(_("扫码查询办理进度"), styles["caption"])],
            ]
        ],
        colWidths=[CONTENT_WIDTH - 45 * mm, 45 * mm],
    )
    codes.setStyle(
        TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.5, GRID_COLOUR),
                ("LINEAFTER", (0, 0), (0, -1), 0.5, GRID_COLOUR),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story += [codes, Spacer(1, 5 * mm)]

    days = _promised_days(case)
    limit_text = _("当场办结") if case.on_the_spot else _("%(days)d 个工作日") % {"days": days}
    if order.due_at:
        due_text = _fmt_dt(order.due_at)
        if order.due_provisional:
            due_text += _("（临时）")
    else:
        due_text = "—"
    delivery = _label(DeliveryMethod, case.delivery_method)
    rows: list[tuple[str, Any]] = [
        (_("办件编号"), order.number),
        (_("办理事项"), matter.name),
        (_("申请人"), mask_name(case.name)),
        (_("证件"), f"{_label(IdType, case.id_type)}  {mask_id_number(case.id_number)}"),
    ]
    if case.proxy_name:
        rows.append((_("代办人"), mask_name(case.proxy_name)))
    rows += [
        (_("受理时间"), _fmt_dt(case.accepted_at)),
        (_("承诺时限"), limit_text),
        (_("办结期限"), due_text),
        (_("送达方式"), delivery),
    ]
    story += [_fields_table(rows, styles), Spacer(1, 3 * mm)]

    story.append(_p(_("已收材料"), styles["h2"]))
    materials = _received_materials(case)
    story.append(
        _list_table(
            [_("序号"), _("材料名称"), _("形式"), _("份数")],
            ((i, m.name, _label(MaterialForm, m.form), m.copies) for i, m in enumerate(materials, start=1)),
            [14 * mm, CONTENT_WIDTH - 14 * mm - 32 * mm - 16 * mm, 32 * mm, 16 * mm],
            styles,
            centred=(0, 2, 3),
            empty=_("未登记收取材料"),
        )
    )
    story.append(Spacer(1, 5 * mm))

    notes = [
        _("凭办件编号及手机号后四位查询办理进度：%(url)s") % {"url": tracking_url},
        _("咨询电话：%(phone)s") % {"phone": DESK_PHONE},
        _("请妥善保管本回执，领取办理结果时请出示。"),
    ]
    story += [_p(line, styles["small"]) for line in notes]
    story.append(Spacer(1, 10 * mm))
    story.append(
        KeepTogether(
            [
                _signature_line([(_("受理窗口（盖章）："), 50 * mm), (_("申请人签收："), 45 * mm)], styles),
                Spacer(1, 3 * mm),
                _p(_("打印时间：%(time)s") % {"time": _fmt_dt(timezone.now())}, styles["small"]),
            ]
        )
    )
    return _build(story, title=_("收件回执"), footer=centre, reference=order.number)


# --------------------------------------------------------------------------- one-time notice


def _missing_rows(missing: Iterable[Any]) -> Iterable[tuple[Any, ...]]:
    for i, item in enumerate(missing or [], start=1):
        if not isinstance(item, dict):
            yield (i, str(item), "—", "—", "")
            continue
        form = str(item.get("form") or "")
        yield (
            i,
            item.get("name") or "—",
            _label(MaterialForm, form) if form else "—",
            item.get("copies") or "—",
            item.get("note") or "",
        )


def one_time_notice_pdf(notice: OneTimeNotice) -> bytes:
    """一次性告知书: everything the applicant still lacks, listed at once, with the rules."""
    styles = _styles()
    matter = notice.matter
    centre = centre_name(notice.place_code)
    story = _heading(centre, _("一次性告知书"), styles, _("编号：%(number)s") % {"number": notice.number})

    story.append(
        _fields_table(
            [
                (_("办理事项"), matter.name),
                (_("申请人"), mask_name(notice.name)),
                (_("证件"), f"{_label(IdType, notice.id_type)}  {mask_id_number(notice.id_number)}"),
                (_("告知时间"), _fmt_dt(notice.issued_at)),
            ],
            styles,
        )
    )
    story.append(Spacer(1, 4 * mm))
    story.append(
        _p(
            _(
                "%(name)s：您申请办理的“%(matter)s”，经审查，申请材料尚不齐全。现将需要补正的全部材料一次性告知如下，"
                "请备齐后到窗口办理。"
            )
            % {"name": mask_name(notice.name) or _("申请人"), "matter": matter.name},
            styles["base"],
        )
    )
    story.append(_p(_("一、需补正的材料"), styles["h2"]))
    story.append(
        _list_table(
            [_("序号"), _("材料名称"), _("形式"), _("份数"), _("说明")],
            _missing_rows(notice.missing),
            [12 * mm, 62 * mm, 28 * mm, 14 * mm, CONTENT_WIDTH - 116 * mm],
            styles,
            centred=(0, 2, 3),
        )
    )
    counter = iter("二三四五六七八九十")
    if notice.note:
        story += [_p(f"{next(counter)}、" + _("其他说明"), styles["h2"]), _p(notice.note, styles["base"])]
    story += [
        _p(f"{next(counter)}、" + _("受理条件"), styles["h2"]),
        _p(matter.conditions or _("见办事指南。"), styles["base"]),
        _p(f"{next(counter)}、" + _("设定依据"), styles["h2"]),
        _p(matter.legal_basis or "—", styles["base"]),
        _p(f"{next(counter)}、" + _("承诺时限"), styles["h2"]),
        _p(
            _("当场办结")
            if matter.on_the_spot
            else _("材料齐全受理后 %(days)d 个工作日内办结。") % {"days": matter.promised_days},
            styles["base"],
        ),
        Spacer(1, 4 * mm),
        _p(
            _(
                "一次性告知：本告知书已一次性列明您尚需补正的全部材料。补齐上列材料后即予受理，"
                "窗口不会再要求您提供本告知书以外的材料。如有疑问，请拨打咨询电话：%(phone)s。"
            )
            % {"phone": DESK_PHONE},
            styles["base"],
        ),
        Spacer(1, 10 * mm),
    ]
    story.append(
        KeepTogether(
            [
                _p(_("告知人：%(name)s") % {"name": notice.issued_by_name or "—"}, styles["base"]),
                _p(
                    _("告知日期：%(date)s") % {"date": _fmt_dt(notice.issued_at, "%Y年%m月%d日")},
                    styles["base"],
                ),
                Spacer(1, 4 * mm),
                _signature_line([(_("受理窗口（盖章）："), 50 * mm)], styles),
                Spacer(1, 8 * mm),
                _signature_line([(_("申请人签收："), 45 * mm), (_("日期："), 40 * mm)], styles),
            ]
        )
    )
    return _build(story, title=_("一次性告知书"), footer=centre, reference=notice.number)


# --------------------------------------------------------------------------- service guide


def _procedure_lines(procedure: Any) -> list[str]:
    """The steps of `Matter.procedure` as lines (accepts strings or dicts with a name/description)."""
    if isinstance(procedure, str):
        return [line for line in procedure.splitlines() if line.strip()]
    lines: list[str] = []
    for item in procedure or []:
        if isinstance(item, dict):
            head = item.get("step") or item.get("name") or item.get("title") or ""
            body = item.get("description") or item.get("detail") or item.get("text") or ""
            limit = item.get("limit") or item.get("days") or ""
            text = "：".join(str(part) for part in (head, body) if part)
            if limit:
                text += f"（{limit}）"
            if text:
                lines.append(text)
        elif item:
            lines.append(str(item))
    return lines


def service_guide_pdf(matter: Matter, *, place_code: str = "") -> bytes:
    """办事指南 of a matter: basic information, conditions, materials, procedure, limits, fee,
    delivery, legal basis and visits."""
    styles = _styles()
    centre = centre_name(place_code)
    story = _heading(centre, _("办事指南"), styles, matter.name)
    counter = iter("一二三四五六七八九十")

    def section(title: str) -> Paragraph:
        return _p(f"{next(counter)}、{title}", styles["h2"])

    cooperating = [_department_name(code) for code in matter.cooperating_departments or []]
    story.append(section(_("基本信息")))
    story.append(
        _fields_table(
            [
                (_("事项名称"), matter.name),
                (_("事项编码"), matter.code),
                (_("事项类别"), _label(MatterCategory, matter.category)),
                (_("事项类型"), _label(ItemType, matter.item_type)),
                (_("承办科室"), _department_name(matter.department_code)),
                (_("协同科室"), "、".join(cooperating) or _("无")),
                (_("可否代办"), _("可代办") if matter.proxy_allowed else _("须本人办理")),
            ],
            styles,
        )
    )
    story += [section(_("受理条件")), _p(matter.conditions or _("无特别条件。"), styles["base"])]

    story.append(section(_("申请材料")))
    materials = list(matter.materials.all())
    story.append(
        _list_table(
            [_("序号"), _("材料名称"), _("形式"), _("份数"), _("来源"), _("必需"), _("说明")],
            (
                (
                    i,
                    m.name,
                    _label(MaterialForm, m.form),
                    m.copies,
                    m.source,
                    _("是") if m.mandatory else _("否"),
                    m.note,
                )
                for i, m in enumerate(materials, start=1)
            ),
            [12 * mm, 56 * mm, 26 * mm, 12 * mm, 22 * mm, 12 * mm, CONTENT_WIDTH - 140 * mm],
            styles,
            centred=(0, 2, 3, 5),
            empty=_("无需提交材料"),
        )
    )

    story.append(section(_("办理流程")))
    steps = _procedure_lines(matter.procedure)
    if steps:
        story += [_p(f"{i}. {line}", styles["base"]) for i, line in enumerate(steps, start=1)]
    else:
        story.append(_p(_("窗口受理 → 后台审核 → 结果送达。"), styles["base"]))

    story.append(section(_("办理时限")))
    limits = []
    if matter.statutory_days:
        limits.append(_("法定时限：%(days)d 个工作日") % {"days": matter.statutory_days})
    limits.append(_("承诺时限：%(days)d 个工作日") % {"days": matter.promised_days})
    if matter.on_the_spot:
        limits.append(_("材料齐全的，当场办结。"))
    story += [_p(line, styles["base"]) for line in limits]

    story += [section(_("收费标准")), _p(matter.fee or _("不收费"), styles["base"])]
    story += [
        section(_("送达方式")),
        _p("、".join(matter.delivery_labels) or _label(DeliveryMethod, "window"), styles["base"]),
    ]
    story += [section(_("设定依据")), _p(matter.legal_basis or "—", styles["base"])]
    story += [
        section(_("到现场次数")),
        _p(
            _("最多跑 %(visits)d 次。") % {"visits": matter.visits}
            if matter.visits
            else _("无需到现场（零跑动）。"),
            styles["base"],
        ),
    ]
    story += [
        Spacer(1, 6 * mm),
        _p(
            _("咨询电话：%(phone)s。材料不全的，窗口将出具一次性告知书，一次性告知需补正的全部材料。")
            % {"phone": DESK_PHONE},
            styles["small"],
        ),
    ]
    return _build(story, title=_("办事指南"), footer=centre, reference=matter.name)


__all__: list[str] = [
    "barcode_drawing",
    "centre_name",
    "one_time_notice_pdf",
    "qr_drawing",
    "receipt_pdf",
    "service_guide_pdf",
]
