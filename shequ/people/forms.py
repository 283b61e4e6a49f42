"""Forms of the resident database pages: the search box with its filter chips, the reveal
reason, the "as it was on date D" picker, and the edit forms (one per field group) with the
street's decision on them and its approval policy."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ChangeStatus, DocumentType, FieldGroup, Gender, ResidenceType, Tag

AGE_CHOICES = [("60", _("60 岁以上")), ("70", _("70 岁以上")), ("80", _("80 岁以上")), ("90", _("90 岁以上"))]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("查找"),
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("身份证号 / 手机号 / 姓名 / 拼音或首字母 / 地址"),
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
        error_messages={"max_length": _("查找内容过长（最多 %(limit_value)d 个字符）。")},
    )
    tag = forms.ChoiceField(
        label=_("标签"),
        required=False,
        choices=[("", _("全部")), *Tag.choices],
        error_messages={"invalid_choice": _("标签“%(value)s”无效。")},
    )
    age = forms.ChoiceField(
        label=_("年龄段"),
        required=False,
        choices=[("", _("全部")), *AGE_CHOICES],
        error_messages={"invalid_choice": _("年龄段“%(value)s”无效。")},
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看原因"),
        max_length=300,
        strip=True,
        error_messages={
            "required": _("请填写查看原因。"),
            "max_length": _("查看原因过长（最多 %(limit_value)d 个字）。"),
        },
    )
    as_of = forms.DateField(required=False, widget=forms.HiddenInput)


class AsOfForm(forms.Form):
    as_of = forms.DateField(
        label=_("查看历史日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("日期格式应为 年-月-日，例如 2024-01-31。")},
    )

    def clean_as_of(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("as_of")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(_("查看历史的日期不能晚于今天。"))
        return day


# ------------------------------------------------------------------------------ edits


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DATE_ERRORS = {"invalid": _("日期格式应为 年-月-日，例如 2024-01-31。")}


class ChangeForm(forms.Form):
    """One group of a person's fields. `values()` is what the edit changes: a document or phone
    number left blank keeps the current one (the page shows it masked, never in the field)."""

    group: ClassVar[str]

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(
        label=_("变更原因"),
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": _("如：居民持新证件来办理、原登记有误")}),
        error_messages={
            "required": _("请填写变更原因。"),
            "max_length": _("变更原因过长（最多 %(limit_value)d 个字）。"),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.group)
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError


class IdentityForm(ChangeForm):
    group = FieldGroup.IDENTITY

    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名。")})
    id_type = forms.ChoiceField(
        label=_("证件类型"),
        choices=DocumentType.choices,
        error_messages={"invalid_choice": _("证件类型“%(value)s”无效。")},
    )
    id_number = forms.CharField(
        label=_("新证件号码"),
        required=False,
        max_length=30,
        help_text=_("不修改请留空；当前号码脱敏显示在上方。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    gender = forms.ChoiceField(
        label=_("性别"),
        required=False,
        choices=[("", _("按身份证号码自动判断")), *Gender.choices],
        error_messages={"invalid_choice": _("性别“%(value)s”无效。")},
    )
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=_date_input(),
        input_formats=["%Y-%m-%d"],
        help_text=_("居民身份证可留空，按号码自动填写。"),
        error_messages=DATE_ERRORS,
    )
    field_order = ["name", "id_type", "id_number", "gender", "birth_date", "reason"]

    def __init__(self, *args: Any, current_id_type: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_id_type = current_id_type

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        changed_type = data.get("id_type") and data.get("id_type") != self.current_id_type
        if changed_type and not (data.get("id_number") or "").strip():
            self.add_error("id_number", _("更换证件类型时，请填写新的证件号码。"))
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {name: data[name] for name in ("name", "id_type", "gender", "birth_date")}
        if data["id_number"].strip():
            values["id_number"] = data["id_number"]
        return values


class ContactForm(ChangeForm):
    group = FieldGroup.CONTACT

    phone = forms.CharField(
        label=_("新联系电话"),
        required=False,
        max_length=20,
        help_text=_("不修改请留空；当前号码脱敏显示在上方。"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    clear_phone = forms.BooleanField(label=_("删除联系电话"), required=False)
    field_order = ["phone", "clear_phone", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("clear_phone") and (data.get("phone") or "").strip():
            self.add_error("clear_phone", _("填写了新电话就不能同时删除电话，请二选一。"))
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["clear_phone"]:
            return {"phone": ""}
        return {"phone": data["phone"]} if data["phone"].strip() else {}


class ResidenceForm(ChangeForm):
    group = FieldGroup.RESIDENCE

    residence_type = forms.ChoiceField(
        label=_("人口类型"),
        choices=ResidenceType.choices,
        error_messages={"invalid_choice": _("人口类型“%(value)s”无效。")},
    )
    residence_permit_number = forms.CharField(
        label=_("居住证号码"), required=False, max_length=30, help_text=_("仅来沪人员填写。")
    )
    residence_permit_expiry = forms.DateField(
        label=_("居住证有效期至"),
        required=False,
        widget=_date_input(),
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
    )
    registered_address = forms.CharField(label=_("户籍地址"), required=False, max_length=200)
    field_order = [
        "residence_type",
        "residence_permit_number",
        "residence_permit_expiry",
        "registered_address",
        "reason",
    ]

    def values(self) -> dict[str, Any]:
        names = ("residence_type", "residence_permit_number", "residence_permit_expiry", "registered_address")
        return {name: self.cleaned_data[name] for name in names}


CHANGE_FORMS: dict[str, type[ChangeForm]] = {
    form.group: form for form in (IdentityForm, ContactForm, ResidenceForm)
}


class DecisionForm(forms.Form):
    """The street's answer to a pending request (a note is required to send it back)."""

    note = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("审核意见过长（最多 %(limit_value)d 个字）。")},
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), *ChangeStatus.choices],
        error_messages={"invalid_choice": _("状态“%(value)s”无效。")},
    )


class PolicyForm(forms.Form):
    """One switch per field group: whether committee workers' edits wait for the street."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in FieldGroup.choices:
            self.fields[value] = forms.BooleanField(label=label, required=False)
