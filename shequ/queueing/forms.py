"""Forms of the queue pages: the kiosk's ticket form and the window console's transfer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ServiceCategory


class KioskForm(forms.Form):
    """What the resident enters at the kiosk; everything but the category is optional."""

    category = forms.ModelChoiceField(
        label=_("服务类别"), queryset=ServiceCategory.objects.none(), widget=forms.HiddenInput
    )
    phone = forms.CharField(
        label=_("手机号码（选填，叫号时短信提醒）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("身份证号（选填，可刷卡或扫码；70 周岁以上优先）"),
        max_length=18,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    disabled = forms.BooleanField(label=_("持残疾人证"), required=False)

    def __init__(self, *args: Any, centre_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ServiceCategory.objects.filter(  # type: ignore[attr-defined]
            centre_id=centre_id, is_active=True
        )

    def clean_id_number(self) -> str:
        return (self.cleaned_data.get("id_number") or "").strip().upper()


class TransferForm(forms.Form):
    category = forms.ModelChoiceField(label=_("转到"), queryset=ServiceCategory.objects.none())

    def __init__(self, *args: Any, centre_id: int, exclude_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queryset = ServiceCategory.objects.filter(centre_id=centre_id, is_active=True)
        if exclude_id is not None:
            queryset = queryset.exclude(pk=exclude_id)
        self.fields["category"].queryset = queryset  # type: ignore[attr-defined]
