"""The resident database in the admin, for reference only: every change goes through the
services (validation, duplicates, history), so the admin shows rows and never edits them.
Document and phone numbers are masked."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from shequ.core.admin import ReadOnlyAdmin, masked
from shequ.core.masking import mask_id_number, mask_phone

from .models import House, Household, Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("name", "gender", "birth_date", "masked_id", "residence_type", "status", "place_code")
    list_filter = ("status", "residence_type", "gender")
    search_fields = ("name", "name_initials", "place_code")
    exclude = ("id_number", "phone")
    readonly_fields = ("masked_id", "masked_phone")

    masked_id = masked("id_number", _("证件号码"), mask_id_number)

    masked_phone = masked("phone", _("联系电话"), mask_phone)


@admin.register(House)
class HouseAdmin(ReadOnlyAdmin):
    list_display = ("address", "place_code", "grid_code", "kind")
    list_filter = ("kind",)
    search_fields = ("address", "place_code")


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "number", "house", "place_code")
    list_filter = ("kind",)
    search_fields = ("number", "house__address")
