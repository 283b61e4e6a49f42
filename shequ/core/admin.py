"""Admin building blocks shared by the apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot


def masked(attribute: str, label: Any, mask: Callable[[str], str]) -> Callable[[Any, Any], str]:
    """An admin column or read-only field that shows `attribute` through `mask` (DESIGN §4.7):
    ``masked_phone = masked("phone", _("联系电话"), mask_phone)`` in a ModelAdmin."""

    @admin.display(description=label)
    def column(model_admin: Any, obj: Any) -> str:
        return mask(getattr(obj, attribute))

    return column


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services (or the audit trail) write: the admin shows them, never edits."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChangeLoggedAdmin(admin.ModelAdmin):
    """Edits made in the admin go to the change log, before and after, written once the related
    rows (inlines, many-to-many) are saved too. Override `change_snapshot` for what to compare
    and `change_place_code` for where the object belongs."""

    def change_snapshot(self, obj: Any) -> dict[str, Any]:
        data = snapshot(obj)
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
        return data

    def change_place_code(self, obj: Any) -> str:
        return ""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        model: type[models.Model] = type(obj)
        stored = model._default_manager.filter(pk=obj.pk).first() if change else None
        obj._admin_before = self.change_snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(obj, "_admin_before", None)
        record_change(
            actor=request.user,
            action=ChangeAction.UPDATE if before is not None else ChangeAction.CREATE,
            obj=obj,
            place_code=self.change_place_code(obj),
            before=before,
            after=self.change_snapshot(obj),
            only_changes=before is not None,
        )
