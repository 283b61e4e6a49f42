"""Validation of place codes, level by level.

One function answers "is this code right for this kind under this parent?" with messages that
name the field; the model, the forms, the importer and the API all call it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .choices import CODE_LENGTH, PARENT_KIND, PlaceKind


def subtree_prefix(code: str, kind: str) -> str:
    """The prefix every code under this place starts with.

    Below a city the code itself is the prefix. A city's GB/T 2260 code pads its significant
    part with zeros (上海市 310000 → ``31``, 苏州市 320500 → ``3205``), so the padding is dropped.
    """
    if kind == PlaceKind.CITY:
        significant = code
        while significant.endswith("00") and len(significant) > 2:
            significant = significant[:-2]
        return significant
    return code


def code_errors(code: str, kind: str, parent_code: str | None, parent_kind: str | None) -> list[str]:
    """Every problem with `code` as a place of `kind` under the given parent; empty when valid."""
    errors: list[str] = []
    if kind not in CODE_LENGTH:
        return [
            _("类型“%(kind)s”无效，应为：%(kinds)s。") % {"kind": kind, "kinds": "、".join(PlaceKind.values)}
        ]
    length = CODE_LENGTH[kind]
    label = PlaceKind(kind).label
    if not code.isascii() or not code.isdigit():
        return [_("代码“%(code)s”只能由数字组成。") % {"code": code}]
    if len(code) != length:
        return [
            _("%(label)s代码应为 %(length)d 位数字，“%(code)s”是 %(actual)d 位。")
            % {"label": label, "length": length, "code": code, "actual": len(code)}
        ]
    if kind == PlaceKind.CITY:
        if code[:2] == "00" or not code.endswith("00"):
            errors.append(_("市级代码“%(code)s”应以 00 结尾（如 310000）。") % {"code": code})
    elif kind == PlaceKind.DISTRICT:
        if code.endswith("00") or code[:2] == "00":
            errors.append(_("区县代码“%(code)s”的后两位不能为 00（GB/T 2260）。") % {"code": code})
    else:
        segment = code[-3:]
        if segment == "000":
            errors.append(_("%(label)s代码“%(code)s”的最后三位不能为 000。") % {"label": label, "code": code})
        if kind == PlaceKind.STREET and int(segment) >= 600:
            errors.append(
                _("街道/镇代码“%(code)s”的后三位应在 001–599 之间（GB/T 10114）。") % {"code": code}
            )

    expected_parent = PARENT_KIND[kind]
    if expected_parent is None:
        if parent_code:
            errors.append(_("市级区划不能有上级。"))
        return errors
    if not parent_code:
        errors.append(
            _("%(label)s必须有上级（%(parent)s）。")
            % {"label": label, "parent": PlaceKind(expected_parent).label}
        )
        return errors
    if parent_kind is not None and parent_kind != expected_parent:
        errors.append(
            _("%(label)s的上级应为%(expected)s，而“%(parent)s”是%(actual)s。")
            % {
                "label": label,
                "expected": PlaceKind(expected_parent).label,
                "parent": parent_code,
                "actual": PlaceKind(parent_kind).label,
            }
        )
        return errors
    prefix = subtree_prefix(parent_code, expected_parent)
    if not code.startswith(prefix):
        errors.append(
            _("代码“%(code)s”不在上级“%(parent)s”之下：应以 %(prefix)s 开头。")
            % {"code": code, "parent": parent_code, "prefix": prefix}
        )
    return errors


def parent_code_of(code: str, kind: str) -> str | None:
    """The parent's code implied by a code (the city of a district is its province/prefecture)."""
    if kind == PlaceKind.GRID:
        return code[:12]
    if kind == PlaceKind.COMMITTEE:
        return code[:9]
    if kind == PlaceKind.STREET:
        return code[:6]
    if kind == PlaceKind.DISTRICT:
        # 直辖市 (11, 12, 31, 50) hang districts straight under the province-level city.
        if code[:2] in {"11", "12", "31", "50"}:
            return code[:2] + "0000"
        return code[:4] + "00"
    return None
