"""The notification outbox (DESIGN §4.4) and the in-app inbox.

Every message that leaves the platform (SMS, e-mail) or lands in a user's inbox is first an
`OutboxMessage` row, written in the same transaction as the change that caused it and rendered
right then, so a rolled-back change sends nothing and the text says what was true at the time.
The worker (`services.deliver_pending`) claims due rows and hands each to its channel backend.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Channel, OutboxStatus

DEDUPE_KEY_MAX_LENGTH = 200


class OutboxMessage(models.Model):
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Phone number for SMS, e-mail address for e-mail, blank for in-app messages.
    address = models.CharField(_("接收地址"), max_length=254, blank=True)
    template = models.CharField(_("消息模板"), max_length=80)
    context = models.JSONField(_("模板参数"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    # When a worker claimed the row (status `sending`); a claim older than the lease is taken
    # to mean that the worker died, and the row goes back to the queue.
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    # "<logical key>:<channel>": the same notification is never queued twice.
    dedupe_key = models.CharField(_("去重键"), max_length=DEDUPE_KEY_MAX_LENGTH, null=True, blank=True)
    place_code = models.CharField(_("区划代码"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="notif_outbox_dedupe_key_unique",
            )
        ]
        indexes = [
            # What the worker asks for on every loop: due pending rows, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=OutboxStatus.PENDING),
                name="notif_outbox_due_idx",
            ),
            # Claims to recover when a worker died mid-send.
            models.Index(
                fields=["claimed_at"],
                condition=Q(status=OutboxStatus.SENDING),
                name="notif_outbox_claimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.template} · {self.get_status_display()}"


class InAppNotification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="inapp_notifications",
        db_index=False,  # both indexes below start with the user
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    # The outbox row this was delivered from: a redelivery (worker died after creating the row)
    # finds it instead of creating a second one.
    outbox = models.OneToOneField(
        OutboxMessage,
        verbose_name=_("来源消息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inapp_notification",
    )

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [
            models.Index(fields=["user", "read_at"], name="notif_inapp_user_read_idx"),
            # The inbox: one user's rows, newest first, keyset on id.
            models.Index(fields=["user", "-id"], name="notif_inapp_user_id_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
