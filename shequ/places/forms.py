from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import io as place_io
from .models import Place
from .services import geometry_errors

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

AUTO = "auto"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_(
            "CSV（列：code,name,kind,parent_code,source；UTF-8 编码）或 GeoJSON（FeatureCollection，"
            "properties 含 code、name、kind、parent_code）。kind 与 parent_code 可省略，由代码推断。"
        ),
    )
    format = forms.ChoiceField(
        label=_("格式"),
        choices=[(AUTO, _("按文件扩展名识别")), (place_io.CSV, "CSV"), (place_io.GEOJSON, "GeoJSON")],
        initial=AUTO,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("文件不能超过 %(size)d MB。"),
                params={"size": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="too_big",
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None and cleaned.get("format") == AUTO:
            detected = place_io.detect_format(upload.name or "")
            if detected is None:
                self.add_error("format", _("无法从文件扩展名识别格式，请选择 CSV 或 GeoJSON。"))
            else:
                cleaned["format"] = detected
        return cleaned


class GeometryField(forms.JSONField):
    """A GeoJSON Polygon/MultiPolygon, checked with shapely."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        messages = geometry_errors(value)
        if messages:
            raise ValidationError(messages)


class PlaceAdminForm(forms.ModelForm):
    """The admin's form: the same checks as the services, shown next to the fields."""

    geometry = GeometryField(label=_("边界（GeoJSON）"), required=False)

    class Meta:
        model = Place
        fields = ["code", "name", "kind", "parent", "geometry", "source", "is_active"]
