"""The place tree in the admin. Saves go through the services, so the change log is written and
scope is checked; places are never deleted here (deactivate them instead: codes are referenced
by every other table)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import services
from .forms import PlaceAdminForm
from .models import Place


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    form = PlaceAdminForm
    list_display = ("code", "name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)
    ordering = ("code",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Place | None = None) -> tuple[str, ...]:
        # Code, kind and parent are the place's position in the tree; they are set once.
        return ("code", "kind", "parent") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        if change:
            saved = services.place_update(
                by=request.user,
                place=obj,
                name=obj.name,
                geometry=obj.geometry,
                source=obj.source,
                is_active=obj.is_active,
            )
        else:
            saved = services.place_create(
                by=request.user,
                code=obj.code,
                name=obj.name,
                kind=obj.kind,
                parent_code=obj.parent.code if obj.parent else None,
                geometry=obj.geometry,
                source=obj.source,
            )
            if not obj.is_active:
                saved = services.place_update(by=request.user, place=saved, is_active=False)
        # The admin goes on with `obj` (messages, redirect, its own LogEntry).
        obj.pk = saved.pk
        obj.created_at = saved.created_at
        obj.updated_at = saved.updated_at
        obj._state.adding = False
        obj._state.db = saved._state.db
