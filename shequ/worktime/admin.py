"""Admin pages for the calendar; every save and delete goes through `services` (DESIGN §4.1)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .forms import CalendarOverrideAdminForm
from .models import CalendarOverride, CalendarYear


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    form = CalendarOverrideAdminForm
    list_display = ["date", "is_working", "name", "note", "created_by_name", "created_at"]
    list_filter = ["is_working"]
    search_fields = ["name", "note"]
    date_hierarchy = "date"
    ordering = ["-date"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The date is the row's identity; change a day by deleting and adding.
        return ["date", "created_at", "created_by_name"] if obj else ["created_at", "created_by_name"]

    def save_model(self, request: HttpRequest, obj: CalendarOverride, form: Any, change: bool) -> None:
        saved = services.set_override(
            date=obj.date, is_working=obj.is_working, name=obj.name, note=obj.note, by=request.user
        )
        obj.pk, obj.created_at, obj.created_by_name = saved.pk, saved.created_at, saved.created_by_name

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        services.delete_override(date=obj.date, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarOverride]) -> None:
        for day in list(queryset.values_list("date", flat=True)):
            services.delete_override(date=day, by=request.user)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "entered_at", "entered_by_name", "note"]
    ordering = ["-year"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["year", "entered_at", "entered_by_name"] if obj else ["entered_at", "entered_by_name"]

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        saved = services.mark_year_entered(year=obj.year, note=obj.note, by=request.user)
        obj.pk, obj.entered_at, obj.entered_by_name = saved.pk, saved.entered_at, saved.entered_by_name

    def delete_model(self, request: HttpRequest, obj: CalendarYear) -> None:
        services.unmark_year(year=obj.year, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        for year in list(queryset.values_list("year", flat=True)):
            services.unmark_year(year=year, by=request.user)
