from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import RatingLevel


class VersionedForm(forms.Form):
    # The order's version when the page was drawn: a stale page cannot overwrite a newer state.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ActionForm(VersionedForm):
    action = forms.SlugField(label=_("操作"), max_length=40)
    comment = forms.CharField(
        label=_("意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(VersionedForm):
    department = forms.IntegerField(label=_("承办部门"), required=False)
    username = forms.CharField(label=_("承办人（用户名）"), required=False, max_length=150)
    comment = forms.CharField(label=_("转办说明"), required=False, max_length=2000)

    def clean(self):
        data = super().clean() or {}
        if not data.get("department") and not data.get("username"):
            raise forms.ValidationError(_("请选择承办部门或填写承办人。"))
        return data


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("备注"), max_length=2000, error_messages={"required": _("请填写备注内容。")}
    )


class PauseForm(VersionedForm):
    reason = forms.SlugField(label=_("暂停原因"), max_length=40)
    comment = forms.CharField(label=_("说明"), required=False, max_length=2000)


class AttachForm(forms.Form):
    file = forms.FileField(label=_("文件"), error_messages={"required": _("请选择要上传的文件。")})
    label = forms.CharField(label=_("说明"), required=False, max_length=100)


class RateForm(forms.Form):
    level = forms.TypedChoiceField(label=_("满意度"), choices=RatingLevel.choices, coerce=int)
    comment = forms.CharField(label=_("评价内容"), required=False, max_length=500)
