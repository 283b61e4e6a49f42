"""The acceptance centre in the admin.

The catalogue (Matter with its materials) is edited here, checked by the same rules as the
importer and logged in the change log; "导出为 Excel" writes the selected matters in the import
format. Cases, one-time notices and first-inquiry records are shown read-only for reference; the
applicant's identity number and phone appear masked (DESIGN §4.7), never in a list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.audit.services import snapshot
from shequ.core import xlsx
from shequ.core.admin import ChangeLoggedAdmin, ReadOnlyAdmin, masked
from shequ.core.masking import mask_id_number, mask_phone

from .catalogue import MATERIAL_FIELDS, MATTER_FIELDS, export_xlsx, matter_rule_errors
from .choices import DeliveryMethod
from .models import Case, Inquiry, Matter, MatterMaterial, OneTimeNotice


class MatterAdminForm(forms.ModelForm):
    delivery_options = forms.MultipleChoiceField(
        label=_("送达方式"), choices=DeliveryMethod.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Matter
        fields = MATTER_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, problem in matter_rule_errors(cleaned).items():
            self.add_error(name if name in self.fields else None, problem)
        return cleaned


class MatterMaterialInline(admin.TabularInline):
    model = MatterMaterial
    fields = ("sort_order", "name", "form", "copies", "source", "mandatory", "note")
    extra = 0
    ordering = ("sort_order", "id")


def _matter_snapshot(matter: Matter) -> dict[str, Any]:
    data = snapshot(matter, fields=MATTER_FIELDS)
    data["materials"] = [
        {name: getattr(m, name) for name in MATERIAL_FIELDS}
        for m in matter.materials.order_by("sort_order", "id")
    ]
    return data


@admin.register(Matter)
class MatterAdmin(ChangeLoggedAdmin):
    form = MatterAdminForm
    list_display = (
        "code",
        "name",
        "category",
        "department_code",
        "promised_days",
        "on_the_spot",
        "is_active",
    )
    list_filter = ("category", "item_type", "on_the_spot", "is_active")
    search_fields = ("code", "name")
    ordering = ("category", "sort_order", "code")
    inlines = (MatterMaterialInline,)
    actions = ("export_selected",)

    @admin.action(description=_("导出为 Excel"))
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Matter]) -> HttpResponse:
        return xlsx.download(export_xlsx(queryset), f"matters-{timezone.localdate():%Y%m%d}.xlsx")

    def change_snapshot(self, obj: Matter) -> dict[str, Any]:
        return _matter_snapshot(obj)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("order", "matter", "name", "accepted_at")
    list_filter = ("on_the_spot", "delivery_method", "matter__category")
    list_select_related = ("order", "matter")
    search_fields = ("order__number",)
    date_hierarchy = "accepted_at"
    show_full_result_count = False
    # Identity numbers and phones only masked; the raw columns are not in the form at all.
    fields = (
        "order",
        "matter",
        "place_code",
        "name",
        "id_type",
        "masked_id_number",
        "masked_phone",
        "proxy_name",
        "masked_proxy_id_number",
        "materials_received",
        "on_the_spot",
        "delivery_method",
        "tracking_number",
        "decision",
        "accepted_at",
        "home_visit_at",
    )
    readonly_fields = fields

    masked_id_number = masked("id_number", _("证件号码"), mask_id_number)

    masked_phone = masked("phone", _("联系电话"), mask_phone)

    masked_proxy_id_number = masked("proxy_id_number", _("代办人证件号码"), mask_id_number)


@admin.register(OneTimeNotice)
class OneTimeNoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "matter", "issued_by_name", "issued_at")
    list_select_related = ("matter",)
    search_fields = ("number",)
    date_hierarchy = "issued_at"
    show_full_result_count = False
    fields = (
        "number",
        "matter",
        "place_code",
        "name",
        "id_type",
        "masked_id_number",
        "masked_phone",
        "missing",
        "note",
        "issued_by_name",
        "issued_at",
    )
    readonly_fields = fields

    masked_id_number = masked("id_number", _("证件号码"), mask_id_number)

    masked_phone = masked("phone", _("联系电话"), mask_phone)


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "staff_name", "matter", "channel", "referred_to")
    list_filter = ("channel",)
    list_select_related = ("matter",)
    search_fields = ("staff_name", "question")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "created_at",
        "place_code",
        "staff_name",
        "matter",
        "channel",
        "visitor_name",
        "masked_phone",
        "question",
        "answer",
        "referred_to",
    )
    readonly_fields = fields

    masked_phone = masked("visitor_phone", _("联系电话"), mask_phone)
