from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import DeliveryMethod, IdType
from .models import Matter


class AcceptForm(forms.Form):
    matter = forms.ModelChoiceField(
        label=_("事项"),
        queryset=Matter.objects.filter(is_active=True),
        error_messages={"required": _("请选择事项。"), "invalid_choice": _("事项不存在或已停止受理。")},
    )
    name = forms.CharField(label=_("申请人姓名"), max_length=50, required=False)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("联系地址"), max_length=200, required=False)
    proxy_name = forms.CharField(label=_("代办人姓名"), max_length=50, required=False)
    proxy_id_number = forms.CharField(label=_("代办人身份证号码"), max_length=30, required=False)
    disabled = forms.BooleanField(label=_("申请人持残疾人证"), required=False)
    # Offered by the desk's look-up: the phone on record is used without being shown (re-read
    # from the resident database at acceptance).
    use_stored_phone = forms.BooleanField(label=_("使用人口库登记电话"), required=False)
    received = forms.TypedMultipleChoiceField(label=_("已收材料"), coerce=int, required=False, choices=())
    delivery_method = forms.ChoiceField(
        label=_("送达方式"), choices=DeliveryMethod.choices, initial=DeliveryMethod.WINDOW
    )
    delivery_address = forms.CharField(label=_("送达地址"), max_length=200, required=False)
    finish_on_spot = forms.BooleanField(label=_("当场办结"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        matter_id = self.data.get("matter") if self.is_bound else None
        if matter_id and str(matter_id).isdigit():
            materials = Matter.objects.filter(pk=matter_id).values_list("materials__pk", "materials__name")
            received = self.fields["received"]
            assert isinstance(received, forms.TypedMultipleChoiceField)
            received.choices = [(pk, name) for pk, name in materials if pk]


class InquiryForm(forms.Form):
    matter = forms.ModelChoiceField(
        label=_("相关事项"), queryset=Matter.objects.filter(is_active=True), required=False
    )
    visitor_name = forms.CharField(label=_("来访人"), max_length=50, required=False)
    visitor_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    question = forms.CharField(label=_("咨询内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    referred_to = forms.CharField(label=_("引导至（窗口/部门）"), max_length=100, required=False)


class DeliverForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    delivery_method = forms.ChoiceField(label=_("送达方式"), choices=DeliveryMethod.choices)
    tracking_number = forms.CharField(label=_("快递单号"), max_length=50, required=False)
    delivery_address = forms.CharField(label=_("送达地址"), max_length=200, required=False)


class HomeVisitForm(forms.Form):
    when = forms.DateTimeField(
        label=_("上门时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={"required": _("请选择上门时间。"), "invalid": _("上门时间格式不正确。")},
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("证件号码")), ("phone", _("联系电话"))])
    purpose = forms.CharField(
        label=_("查看原因"), max_length=300, min_length=2, error_messages={"required": _("请填写查看原因。")}
    )


class StatsForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    month = forms.IntegerField(label=_("月份（空为全年）"), min_value=1, max_value=12, required=False)
