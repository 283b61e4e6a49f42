"""Admin pages: the outbox is read-only (the worker owns its states); failed rows can be queued
again through `services.retry_failed`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shequ.core.admin import ReadOnlyAdmin
from shequ.core.masking import mask_phone

from . import services
from .choices import Channel
from .models import InAppNotification, OutboxMessage

OUTBOX_FIELDS = (
    "channel",
    "recipient_user",
    "masked_address",
    "template",
    "context",
    "subject",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "created_at",
    "sent_at",
    "last_error",
    "dedupe_key",
    "place_code",
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "template",
        "masked_address",
        "recipient_user",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    list_filter = ["channel", "status"]
    list_select_related = ["recipient_user"]
    ordering = ["-id"]
    show_full_result_count = False  # no COUNT(*) over the whole outbox
    actions = ["resend"]
    # The full address is personal data (DESIGN §4.7): the admin shows it masked.
    fields = OUTBOX_FIELDS
    readonly_fields = OUTBOX_FIELDS

    @admin.display(description=_("接收地址"))
    def masked_address(self, obj: OutboxMessage) -> str:
        if obj.channel == Channel.SMS:
            return mask_phone(obj.address)
        if obj.channel == Channel.EMAIL and "@" in obj.address:
            local, _sep, domain = obj.address.partition("@")
            return f"{local[:1]}***@{domain}"
        return obj.address

    @admin.action(description=_("重新发送"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = services.retry_failed(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "已将 %(count)d 条发送失败的消息重新加入发送队列。",
                "已将 %(count)d 条发送失败的消息重新加入发送队列。",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_resend_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


@admin.register(InAppNotification)
class InAppNotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "title", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = ["user", "title", "body", "link", "created_at", "read_at", "outbox"]
