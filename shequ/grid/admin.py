"""Grid management in the admin: the class tables and responsibility grids are edited here (an
edit marks a class as the city's own, so a reload of the shipped tables keeps it); reports,
dispatches and API keys are read-only (their changes go through the services and pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shequ.core.admin import ChangeLoggedAdmin, ReadOnlyAdmin

from .models import ApiKey, Component, Dispatch, GridReport, LegacyClass, ManagementClass, ResponsibilityGrid


@admin.register(ManagementClass)
class ManagementClassAdmin(ChangeLoggedAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "major_name",
        "department_name",
        "limit",
        "limit_unit",
        "is_active",
        "edited",
    )
    list_filter = ("kind", "major_name", "limit_unit", "is_active", "edited")
    search_fields = ("code", "name")
    readonly_fields = ("kind", "code", "name", "major_code", "major_name", "edited")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # classes come from the standard's table

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ManagementClass, form: Any, change: bool) -> None:
        obj.edited = True
        super().save_model(request, obj, form, change)


@admin.register(LegacyClass)
class LegacyClassAdmin(ChangeLoggedAdmin):
    list_display = ("code", "name", "kind", "major_name", "maps_to")
    list_filter = ("kind", "major_name")
    search_fields = ("code", "name")
    raw_id_fields = ("maps_to",)
    readonly_fields = ("standard", "kind", "code", "name", "major_name")


@admin.register(ResponsibilityGrid)
class ResponsibilityGridAdmin(ChangeLoggedAdmin):
    list_display = ("code", "name", "place", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("place",)
    filter_horizontal = ("unit_grids", "inspectors")

    def change_place_code(self, obj: ResponsibilityGrid) -> str:
        return obj.place.code


@admin.register(Component)
class ComponentAdmin(ReadOnlyAdmin):
    list_display = ("identifier", "name", "management_class", "place_code", "state")
    list_filter = ("state",)
    search_fields = ("identifier", "name")


@admin.register(GridReport)
class GridReportAdmin(ReadOnlyAdmin):
    list_display = ("order", "management_class", "place_code", "reporter_kind")
    list_filter = ("reporter_kind",)
    exclude = ("reporter_name", "reporter_phone", "reporter_email", "followup_token")


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = (
        "report",
        "department",
        "dispatched_at",
        "returned_at",
        "handled_at",
        "handled_on_time",
        "rework",
    )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "place", "is_active", "last_used_at")
    exclude = ("digest",)
