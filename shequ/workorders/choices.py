"""Vocabulary of the engine: status groups, channels, priorities, SLA states, event kinds, ratings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusGroup(models.TextChoices):
    OPEN = "open", _("办理中")
    PAUSED = "paused", _("已暂停")
    CLOSED = "closed", _("已办结")


class Channel(models.TextChoices):
    COUNTER = "counter", _("窗口")
    PHONE = "phone", _("电话")
    WEB = "web", _("网上")
    KIOSK = "kiosk", _("自助终端")
    APP = "app", _("移动端")
    DEVICE = "device", _("智能设备")
    INSPECTOR = "inspector", _("巡查上报")
    SYSTEM = "system", _("系统生成")


class Priority(models.IntegerChoices):
    NORMAL = 0, _("一般")
    URGENT = 1, _("紧急")
    CRITICAL = 2, _("特急")


class SlaState(models.TextChoices):
    """Where the current step stands against its deadline (kept current by the worker's sweep)."""

    NONE = "none", _("无时限")
    ON_TIME = "on_time", _("正常")
    WARNING = "warning", _("临期")
    OVERDUE = "overdue", _("超期")


class EventKind(models.TextChoices):
    CREATED = "created", _("创建")
    ACCEPTED = "accepted", _("受理")
    ADVANCED = "advanced", _("流转")
    ASSIGNED = "assigned", _("分派")
    TRANSFERRED = "transferred", _("转办")
    COMMENTED = "commented", _("备注")
    PAUSED = "paused", _("暂停计时")
    RESUMED = "resumed", _("恢复计时")
    WARNED = "warned", _("临期预警")
    OVERDUE = "overdue", _("超期")
    ESCALATED = "escalated", _("催办")
    RETURNED = "returned", _("退回")
    COMPLETED = "completed", _("办结")
    DELIVERED = "delivered", _("送达")
    RATED = "rated", _("评价")
    REOPENED = "reopened", _("重新办理")
    CANCELLED = "cancelled", _("撤销")
    ATTACHED = "attached", _("上传附件")
    DEADLINE_CHANGED = "deadline_changed", _("期限调整")


class RatingLevel(models.IntegerChoices):
    """GB/T 39734-2020 five levels; 不满意 and 非常不满意 are bad ratings (差评)."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


BAD_RATINGS = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})
# 满意率 counts 基本满意 and better, the complement of the bad ratings (好评 in 好差评).
SATISFIED_RATINGS = frozenset(RatingLevel) - BAD_RATINGS

# Steps every process may end in. Reaching one closes the order.
CLOSED = "closed"
CANCELLED = "cancelled"
TERMINAL_STEPS = frozenset({CLOSED, CANCELLED})
