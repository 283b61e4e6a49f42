"""Forms of the grid pages. They only parse what was typed; every rule of a report (the class,
the grid, the photo) is checked once, in shequ.grid.services, whose errors name the same fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .choices import FixedAnswer, ReporterKind
from .services import MAX_DESCRIPTION, ReportInput

PHONE = RegexValidator(r"^[0-9+\- ]{5,20}$", _("请填写有效的电话号码。"))


class ReportForm(forms.Form):
    """The inspector's mobile report. Photos come from request.FILES ("photo", several)."""

    management_class = forms.CharField(label=_("问题类别"), max_length=5, required=False)
    longitude = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    latitude = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    accuracy = forms.FloatField(label=_("定位精度（米）"), required=False, min_value=0)
    address = forms.CharField(label=_("事发位置"), max_length=256, required=False)
    component = forms.CharField(label=_("部件"), max_length=17, required=False)
    description = forms.CharField(
        label=_("问题描述"), max_length=MAX_DESCRIPTION, required=False, widget=forms.Textarea
    )

    reporter_kind = ReporterKind.INSPECTOR

    def errors_by_field(self) -> dict[str, list[str]]:
        """Form errors keyed like the services' (longitude/latitude are the "location")."""
        found: dict[str, list[str]] = {}
        for name, errors in self.errors.items():
            key = "location" if name in {"longitude", "latitude", "accuracy"} else name
            key = "form" if key == "__all__" else key
            label = self.fields[name].label if name in self.fields else ""
            found.setdefault(key, []).extend(f"{label}：{e}" if label else str(e) for e in errors)
        return found

    def to_input(self, photos: list[Any]) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            class_code=data.get("management_class") or "",
            reporter_kind=self.reporter_kind,
            longitude=data.get("longitude"),
            latitude=data.get("latitude"),
            address=data.get("address") or "",
            description=data.get("description") or "",
            component=data.get("component") or "",
            reporter_name=data.get("reporter_name") or "",
            reporter_phone=data.get("reporter_phone") or "",
            photos=photos,
        )


class PublicReportForm(ReportForm):
    """A resident's report. `website` is a honeypot: people leave it empty, form-filling bots don't."""

    reporter_name = forms.CharField(label=_("您的称呼"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, validators=[PHONE])
    website = forms.CharField(label=_("网址（请勿填写）"), max_length=200, required=False)

    reporter_kind = ReporterKind.RESIDENT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["component"]


class StaffReportForm(ReportForm):
    """A report the supervision centre registers for a caller (12345, a phone call, a visitor)."""

    reporter_name = forms.CharField(label=_("来电人"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, validators=[PHONE])

    reporter_kind = ReporterKind.STAFF


class FollowupForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("问题是否已经解决？"), choices=FixedAnswer.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("补充说明"), max_length=500, required=False, widget=forms.Textarea)


class ActionForm(forms.Form):
    """One action on a case: the order version it was shown at, and what the action needs."""

    version = forms.IntegerField(label=_("版本"), min_value=0)
    comment = forms.CharField(label=_("意见"), max_length=2000, required=False)
    department = forms.IntegerField(label=_("处置部门"), required=False)
    merge_into = forms.CharField(label=_("合并至"), max_length=30, required=False)
