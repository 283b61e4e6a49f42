"""Append-only audit tables (DESIGN §1.5).

Rows are written by `services.record_change` and `services.record_access` and never changed.
On PostgreSQL a trigger (migration 0002) refuses UPDATE always and DELETE unless the pruning
command has opened its window, so even a bug or a console session cannot rewrite history.
Actors are stored by id and name, not by foreign key, so the log outlives the account.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    IMPORT = "import", _("导入")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    GRANT = "grant", _("授权")
    REVOKE = "revoke", _("撤销")
    TOKEN_ISSUED = "token_issued", _("签发令牌")
    TOKEN_REVOKED = "token_revoked", _("撤销令牌")
    CALENDAR = "calendar", _("日历调整")
    PRUNE = "prune", _("清理审计")


class AccessAction(models.TextChoices):
    VIEW = "view", _("查看")
    REVEAL = "reveal", _("显示明文")
    EXPORT = "export", _("导出")
    PRINT = "print", _("打印")


class ChangeLog(models.Model):
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=ChangeAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    place_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("变更日志")
        verbose_name_plural = _("变更日志")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="changelog_object"),
            models.Index(fields=["actor_id", "-created_at"], name="changelog_actor"),
            models.Index(fields=["place_code"], name="changelog_place", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_name} {self.get_action_display()} {self.object_repr}"


class AccessLog(models.Model):
    """Who viewed, revealed or exported whose personal data, and why."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=AccessAction.choices)
    subject_type = models.CharField(_("数据类型"), max_length=100)
    subject_id = models.CharField(_("数据ID"), max_length=64, blank=True)
    # Masked: the log itself must not become a copy of the personal data.
    subject_repr = models.CharField(_("数据对象"), max_length=200, blank=True)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    purpose = models.CharField(_("用途"), max_length=300)
    record_count = models.PositiveIntegerField(_("记录数"), default=1)
    place_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息访问日志")
        verbose_name_plural = _("个人信息访问日志")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="accesslog_subject"),
            models.Index(fields=["actor_id", "-created_at"], name="accesslog_actor"),
            models.Index(fields=["place_code"], name="accesslog_place", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_name} {self.get_action_display()} {self.subject_repr}"
