from django.contrib import admin

from shequ.core.admin import ReadOnlyAdmin

from .models import AccessLog, ChangeLog


@admin.register(ChangeLog)
class ChangeLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor_name",
        "action",
        "object_type",
        "object_repr",
        "place_code",
        "request_id",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_repr", "object_id", "request_id"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor_name",
        "action",
        "subject_type",
        "subject_repr",
        "purpose",
        "record_count",
    ]
    list_filter = ["action", "subject_type"]
    search_fields = ["actor_name", "subject_repr", "subject_id", "purpose"]
