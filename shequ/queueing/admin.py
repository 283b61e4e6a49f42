"""Queue configuration in the admin: a centre's service categories (with their matters and
appointment slots) and its windows (with the categories each serves); edits go to the change log
(many-to-many included).
Tickets and appointments are shown read-only, phones masked."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shequ.core.admin import ChangeLoggedAdmin, ReadOnlyAdmin, masked
from shequ.core.masking import mask_name, mask_phone

from .models import Appointment, ServiceCategory, Ticket, Window


class CentreConfigAdmin(ChangeLoggedAdmin):
    def change_place_code(self, obj: ServiceCategory | Window) -> str:
        return obj.centre.code


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(CentreConfigAdmin):
    list_display = (
        "centre",
        "prefix",
        "name",
        "average_minutes",
        "slot_minutes",
        "slot_capacity",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "centre__name", "centre__code")
    filter_horizontal = ("matters",)
    raw_id_fields = ("centre",)


@admin.register(Window)
class WindowAdmin(CentreConfigAdmin):
    list_display = ("centre", "number", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("centre__name", "centre__code", "name")
    filter_horizontal = ("categories",)
    raw_id_fields = ("centre",)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "day",
        "centre_code",
        "category",
        "status",
        "priority",
        "window",
        "masked_phone",
    )
    list_filter = ("status", "priority", "day")
    search_fields = ("number", "centre_code")
    exclude = ("phone", "token")
    readonly_fields = ("masked_phone",)

    masked_phone = masked("phone", _("手机号码"), mask_phone)


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("code", "day", "slot_start", "category", "masked_name", "masked_phone", "status")
    list_filter = ("status", "day")
    search_fields = ("code",)
    exclude = ("name", "phone")
    readonly_fields = ("masked_name", "masked_phone")

    masked_name = masked("name", _("姓名"), mask_name)

    masked_phone = masked("phone", _("手机号码"), mask_phone)
