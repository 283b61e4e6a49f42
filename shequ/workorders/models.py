"""The engine's tables: work orders, their timeline, numbering, ratings and attachments.

Every closed loop of the platform is a WorkOrder moving through the steps of its Process
(`process.py`). Modules keep their own detail table (an affairs case, a grid report) with a
one-to-one link to the order; the engine never needs to know it.

Deadlines are columns (DESIGN §4.5): `due_at` and `warn_at` of the current step are computed by
`worktime` when the step starts, shifted when the clock resumes after a pause, and swept by the
worker through a partial index over open orders.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Department

from .choices import Channel, EventKind, Priority, RatingLevel, SlaState, StatusGroup


class WorkOrder(models.Model):
    number = models.CharField(_("编号"), max_length=24, unique=True)
    kind = models.CharField(_("类型"), max_length=40)
    place_code = models.CharField(_("区划代码"), max_length=15)
    title = models.CharField(_("标题"), max_length=200)
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices, default=Channel.COUNTER)
    priority = models.SmallIntegerField(_("优先级"), choices=Priority.choices, default=Priority.NORMAL)

    # Who the order is about. `subject_person_id` links the resident database once it exists;
    # name and phone are what the desk entered (shown masked).
    subject_person_id = models.BigIntegerField(_("当事人ID"), null=True, blank=True)
    subject_name = models.CharField(_("当事人"), max_length=50, blank=True)
    subject_phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    step = models.CharField(_("当前环节"), max_length=40)
    status = models.CharField(_("状态"), max_length=8, choices=StatusGroup.choices, default=StatusGroup.OPEN)
    sla_state = models.CharField(_("时限状态"), max_length=8, choices=SlaState.choices, default=SlaState.NONE)
    pause_reason = models.CharField(_("暂停原因"), max_length=40, blank=True)

    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
    )
    assignee_department = models.ForeignKey(
        Department,
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("关联工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    started_at = models.DateTimeField(_("开始计时"), null=True, blank=True)
    step_started_at = models.DateTimeField(_("本环节开始"), null=True, blank=True)
    due_at = models.DateTimeField(_("本环节期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    # True while the deadline lies in a year whose holiday schedule is not yet known.
    due_provisional = models.BooleanField(_("临时期限"), default=False)
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    paused_total = models.DurationField(_("累计暂停"), default=timedelta)
    # The deadline is rebuilt from these (on resume, and when a year's holidays are entered):
    # from `anchor_at` (the step's start or the last resume) there remain `anchor_remaining` of
    # working time, or, when that is null, the step's whole limit. `step_budget` is the step's
    # whole working time, from which the warning threshold is taken.
    anchor_at = models.DateTimeField(null=True, blank=True)
    anchor_remaining = models.DurationField(null=True, blank=True)
    step_budget = models.DurationField(null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    # Indicators kept as the order moves, so dashboards need no timeline scans.
    ever_overdue = models.BooleanField(_("曾超期"), default=False)
    closed_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    rating = models.SmallIntegerField(_("评价"), choices=RatingLevel.choices, null=True, blank=True)

    # Bumped by every transition; a form carries it so a stale page cannot overwrite a newer state.
    version = models.PositiveIntegerField(default=1)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        indexes = [
            models.Index(fields=["place_code"], name="wo_place_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind", "status", "step"], name="wo_kind_status_step"),
            models.Index(fields=["assignee_user", "status"], name="wo_assignee_user"),
            models.Index(fields=["assignee_department", "status"], name="wo_assignee_dept"),
            models.Index(fields=["created_at"], name="wo_created"),
            # The worker's sweep: only open, running orders with a deadline.
            models.Index(
                fields=["warn_at"], name="wo_open_warn", condition=Q(status="open", sla_state="on_time")
            ),
            models.Index(
                fields=["due_at"], name="wo_open_due", condition=Q(status="open") & ~Q(sla_state="overdue")
            ),
            models.Index(fields=["due_at", "id"], name="wo_inbox_due", condition=~Q(status="closed")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def process(self):
        from .process import get_process

        return get_process(self.kind)

    @property
    def step_label(self):
        return self.process.step_label(self.step)

    @property
    def is_closed(self) -> bool:
        return self.status == StatusGroup.CLOSED


class WorkOrderEvent(models.Model):
    """One entry of an order's typed, append-only timeline (refused UPDATE/DELETE on PostgreSQL)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("事件"), max_length=20, choices=EventKind.choices)
    step_from = models.CharField(max_length=40, blank=True)
    step_to = models.CharField(max_length=40, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    comment = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="woevent_order")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class Rating(models.Model):
    """A 好差评 rating of a finished order (GB/T 39734: one rating per service, 一事一评)."""

    order = models.OneToOneField(WorkOrder, on_delete=models.PROTECT, related_name="rating_record")
    level = models.SmallIntegerField(_("评价等级"), choices=RatingLevel.choices)
    comment = models.CharField(_("评价内容"), max_length=500, blank=True)
    channel = models.CharField(_("评价渠道"), max_length=12, choices=Channel.choices)
    rated_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)
    # The follow-up order (整改) a bad rating opened.
    follow_up = models.OneToOneField(
        WorkOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="rating_followed_up"
    )

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_level_display()}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.order.created_at:%Y/%m}/{instance.order.number}/{instance.sha256[:16]}-{filename}"


class Attachment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    is_photo = models.BooleanField(_("照片"), default=False)
    step = models.CharField(_("环节"), max_length=40, blank=True)
    label = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_by_id = models.BigIntegerField(null=True, blank=True)
    uploaded_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sha256"], name="attachment_unique_per_order")
        ]

    def __str__(self) -> str:
        return self.original_name
