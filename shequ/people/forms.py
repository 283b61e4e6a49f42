"""Forms of the resident database pages: the search box with its filter chips, the reveal
reason and the "as it was on date D" picker."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Tag

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
