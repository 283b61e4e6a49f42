"""Queue numbering at an acceptance centre (排队叫号): service categories, windows, clerks'
window sessions, tickets and appointments.

A centre is the street office's hall, identified by the street's place code. Ticket numbers
are the category's letter and three digits, restarting every day per centre (A001, A002 …).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.affairs.models import Matter
from shequ.places.models import Place
from shequ.workorders.models import WorkOrder

from .choices import AppointmentStatus, TicketPriority, TicketStatus


class ServiceCategory(models.Model):
    """What a resident picks at the kiosk: a group of matters with its own number letter."""

    centre = models.ForeignKey(
        Place, verbose_name=_("中心"), on_delete=models.PROTECT, related_name="service_categories"
    )
    prefix = models.CharField(_("号码字母"), max_length=1)
    name = models.CharField(_("服务类别"), max_length=50)
    matters = models.ManyToManyField(
        Matter, verbose_name=_("包含事项"), blank=True, related_name="service_categories"
    )
    average_minutes = models.PositiveSmallIntegerField(_("平均办理时长（分钟）"), default=8)
    # Appointments: slots of `slot_minutes` in office hours, each taking up to `slot_capacity`.
    slot_minutes = models.PositiveSmallIntegerField(_("预约时段（分钟）"), default=30)
    slot_capacity = models.PositiveSmallIntegerField(_("每时段预约名额"), default=4)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("服务类别")
        verbose_name_plural = _("服务类别")
        ordering = ["centre", "sort_order", "prefix"]
        constraints = [models.UniqueConstraint(fields=["centre", "prefix"], name="category_unique_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name}"


class Window(models.Model):
    centre = models.ForeignKey(
        Place, verbose_name=_("中心"), on_delete=models.PROTECT, related_name="windows"
    )
    number = models.PositiveSmallIntegerField(_("窗口号"))
    name = models.CharField(_("窗口名称"), max_length=50, blank=True)
    categories = models.ManyToManyField(ServiceCategory, verbose_name=_("受理类别"), related_name="windows")
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["centre", "number"]
        constraints = [models.UniqueConstraint(fields=["centre", "number"], name="window_unique_number")]

    def __str__(self) -> str:
        return str(_("%(number)s 号窗口") % {"number": self.number})


class WindowSession(models.Model):
    """A clerk signed in at a window; one open session per window and per clerk."""

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="sessions")
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="window_sessions"
    )
    started_at = models.DateTimeField(_("签入时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("签出时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("窗口签入")
        verbose_name_plural = _("窗口签入")
        constraints = [
            models.UniqueConstraint(
                fields=["window"], condition=Q(ended_at__isnull=True), name="one_open_session_per_window"
            ),
            models.UniqueConstraint(
                fields=["clerk"], condition=Q(ended_at__isnull=True), name="one_open_session_per_clerk"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window} {self.clerk}"


class Appointment(models.Model):
    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="appointments")
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("预约日期"))
    slot_start = models.TimeField(_("时段开始"))
    code = models.CharField(_("预约码"), max_length=8, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号码"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    created_at = models.DateTimeField(_("预约时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        indexes = [
            models.Index(fields=["category", "day", "slot_start"], name="appointment_slot"),
            # the worker's no-show sweep looks only at appointments still booked
            models.Index(
                fields=["day", "slot_start"], name="appointment_booked", condition=Q(status="booked")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.day} {self.slot_start:%H:%M}"

    def slot_end(self) -> dt.time:
        start = dt.datetime.combine(self.day, self.slot_start)
        return (start + dt.timedelta(minutes=self.category.slot_minutes)).time()


class SlotBooking(models.Model):
    """How many appointments a slot holds; raised by one conditional UPDATE so it never exceeds
    the category's capacity, even with many residents booking at once."""

    category = models.ForeignKey(ServiceCategory, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    slot_start = models.TimeField()
    booked = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "day", "slot_start"], name="slot_unique")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.day} {self.slot_start} {self.booked}"


class Ticket(models.Model):
    centre_code = models.CharField(_("中心代码"), max_length=15)
    day = models.DateField(_("日期"))
    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="tickets")
    number = models.CharField(_("号码"), max_length=8)
    priority = models.SmallIntegerField(
        _("优先级"), choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    priority_reason = models.CharField(_("优先原因"), max_length=50, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket"
    )
    # An unguessable key for the resident's follow-the-queue page (the QR code on the ticket).
    token = models.CharField(max_length=32, unique=True)
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="served_tickets",
    )
    case = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    created_at = models.DateTimeField(_("取号时间"), auto_now_add=True)
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    recalls = models.PositiveSmallIntegerField(_("重呼次数"), default=0)
    started_at = models.DateTimeField(_("开始办理"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办理结束"), null=True, blank=True)
    rating = models.SmallIntegerField(_("评价"), null=True, blank=True)

    class Meta:
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        constraints = [
            models.UniqueConstraint(fields=["centre_code", "day", "number"], name="ticket_unique_number")
        ]
        indexes = [
            # call-next: the waiting tickets of a centre's day, best first
            models.Index(
                fields=["centre_code", "day", "-priority", "created_at"],
                name="ticket_waiting",
                condition=Q(status="waiting"),
            ),
            # people ahead in one category (the kiosk, the ticket, the follow page)
            models.Index(
                fields=["category", "day", "-priority", "created_at"],
                name="ticket_waiting_category",
                condition=Q(status="waiting"),
            ),
            models.Index(fields=["window", "status"], name="ticket_window"),
        ]

    def __str__(self) -> str:
        return self.number
