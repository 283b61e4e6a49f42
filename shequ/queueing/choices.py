from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    SERVING = "serving", _("办理中")
    DONE = "done", _("已完成")
    NO_SHOW = "no_show", _("过号")
    CANCELLED = "cancelled", _("已取消")


class TicketPriority(models.IntegerChoices):
    """Call order: appointments due now, then priority groups, then first come first served."""

    NORMAL = 0, _("普通")
    PRIORITY_GROUP = 1, _("优先（70岁以上/残疾人）")
    APPOINTMENT = 2, _("预约")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已签到")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("爽约")


OPEN_TICKET_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
