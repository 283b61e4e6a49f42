from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiToken, Department, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    """Shown for reference; grants and revocations go through 角色分配, which calls the services."""

    model = RoleAssignment
    extra = 0
    can_delete = False
    fields = ("role", "place", "department", "valid_from", "valid_until", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("联系信息"), {"fields": ("full_name", "phone")}))
    list_display = ["username", "full_name", "is_active", "is_superuser", "last_login"]
    search_fields = ["username", "full_name"]
    inlines = [RoleAssignmentInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "place", "head", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "place__code"]
    raw_id_fields = ["place", "head"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "place", "department", "valid_from", "valid_until", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__full_name", "place__code", "place__name"]
    raw_id_fields = ["user", "place", "department"]
    fields = ["user", "role", "place", "department"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the history stays

    def save_model(self, request, obj, form, change):
        granted = services.assignment_grant(
            by=request.user, user=obj.user, role=obj.role, place=obj.place, department=obj.department
        )
        obj.pk = granted.pk

    @admin.action(description=_("撤销所选角色"))
    def revoke(self, request, queryset):
        for assignment in queryset:
            services.assignment_revoke(by=request.user, assignment=assignment)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "expires_at", "last_used_at", "revoked_at", "created_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued by their owner (page or `manage.py issue_token`), shown once

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(by=request.user, token=token)
