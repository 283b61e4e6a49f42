"""Grid management's tables: the class tables, responsibility grids, city components, and the
detail of a grid report, whose life is a work order of the process ``grid.report``.

Unit grids are Places of kind ``grid`` with their GeoJSON boundary (shequ.places); this app adds
what grid management puts on them. A report's order carries the unit grid's code as its
``place_code``, so every scope rule of the platform applies to it unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Department
from shequ.core.models import TimeStampedModel
from shequ.places.models import Place
from shequ.workorders.models import WorkOrder

from .choices import (
    ClassKind,
    ClassStandard,
    ComponentState,
    DataSource,
    FixedAnswer,
    LimitUnit,
    ReporterKind,
)


class ManagementClass(TimeStampedModel):
    """A class of GB/T 47678.5-2026: a component class (部件) or an item class (事项).

    The same 5-digit code exists in both tables (01001 供水井盖 and 01001 供水井盖异常), so a class
    is identified by (kind, code). What a city edits: the responsible department, the handling
    limit and the filing and closing conditions; `edited` keeps a reload from overwriting them.
    """

    kind = models.CharField(_("类型"), max_length=10, choices=ClassKind.choices)
    code = models.CharField(_("分类代码"), max_length=5)
    name = models.CharField(_("名称"), max_length=60)
    major_code = models.CharField(_("大类代码"), max_length=2)
    major_name = models.CharField(_("大类名称"), max_length=30)
    # Matched against Department.code in the report's street (then district) at dispatch.
    department_code = models.SlugField(_("默认责任部门代码"), max_length=40, blank=True)
    department_name = models.CharField(_("默认责任部门"), max_length=100, blank=True)
    limit = models.PositiveSmallIntegerField(_("处置时限"), null=True, blank=True)
    limit_unit = models.CharField(
        _("时限单位"), max_length=5, choices=LimitUnit.choices, default=LimitUnit.DAYS
    )
    filing_condition = models.TextField(_("立案条件"), blank=True)
    closing_condition = models.TextField(_("结案条件"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    edited = models.BooleanField(_("已按本市修改"), default=False)

    class Meta:
        verbose_name = _("部件/事项分类")
        verbose_name_plural = _("部件/事项分类")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="grid_class_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def limit_text(self) -> str:
        if not self.limit:
            return ""
        return f"{self.limit} {self.get_limit_unit_display()}"


class LegacyClass(models.Model):
    """A class of the older CJ/T 214-2007 / GB/T 30428.2-2013 tables (4 digits), kept so that data
    coded the old way can be read and carried over to its GB/T 47678.5 class (`maps_to`)."""

    standard = models.CharField(
        _("标准"), max_length=20, choices=ClassStandard.choices, default=ClassStandard.CJT_214
    )
    kind = models.CharField(_("类型"), max_length=10)  # component | event, as the old tables say
    code = models.CharField(_("分类代码"), max_length=4)
    name = models.CharField(_("名称"), max_length=60)
    major_name = models.CharField(_("大类名称"), max_length=30)
    maps_to = models.ForeignKey(
        ManagementClass,
        verbose_name=_("对应新分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="legacy_classes",
    )

    class Meta:
        verbose_name = _("旧版分类")
        verbose_name_plural = _("旧版分类")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "kind", "code"], name="grid_legacy_class_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ResponsibilityGrid(TimeStampedModel):
    """A responsibility grid (责任网格): unit grids patrolled together by its inspectors."""

    place = models.ForeignKey(
        Place, verbose_name=_("所属街道"), on_delete=models.PROTECT, related_name="responsibility_grids"
    )
    code = models.CharField(_("编号"), max_length=20)
    name = models.CharField(_("名称"), max_length=100)
    unit_grids = models.ManyToManyField(
        Place, verbose_name=_("单元网格"), related_name="responsibility_grids_in", blank=True
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("监督员"), related_name="responsibility_grids", blank=True
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("责任网格")
        verbose_name_plural = _("责任网格")
        ordering = ["place__code", "code"]
        constraints = [models.UniqueConstraint(fields=["place", "code"], name="grid_resp_unique_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def place_code(self) -> str:
        return self.place.code


class Component(TimeStampedModel):
    """A city component with the attribute table of GB/T 47678.5 (table 2).

    The identifier is 17 digits: the district code (6), the class code (5) and a serial (6).
    Departments are kept as the standard has them, a code (统一社会信用代码) and a name, because
    owners and maintainers are often outside units with no account here.
    """

    identifier = models.CharField(_("管理部件标识码"), max_length=17, unique=True)
    management_class = models.ForeignKey(
        ManagementClass,
        verbose_name=_("部件分类"),
        on_delete=models.PROTECT,
        related_name="components",
        limit_choices_to={"kind": ClassKind.COMPONENT},
    )
    name = models.CharField(_("管理部件名称"), max_length=30)
    competent_code = models.CharField(_("主管部门代码"), max_length=18, blank=True)
    competent_name = models.CharField(_("主管部门名称"), max_length=100)
    owner_code = models.CharField(_("权属单位代码"), max_length=18, blank=True)
    owner_name = models.CharField(_("权属单位名称"), max_length=100, blank=True)
    maintainer_code = models.CharField(_("养护单位代码"), max_length=18, blank=True)
    maintainer_name = models.CharField(_("养护单位名称"), max_length=100, blank=True)
    # The unit grid (15 digits); scope rules read it like every other place_code.
    place_code = models.CharField(_("所在单元网格标识码"), max_length=15)
    state = models.CharField(
        _("管理部件状态"), max_length=10, choices=ComponentState.choices, default=ComponentState.INTACT
    )
    initial_date = models.DateField(_("初始日期"))
    changed_date = models.DateField(_("变更日期"), null=True, blank=True)
    data_source = models.CharField(
        _("数据来源"), max_length=15, choices=DataSource.choices, default=DataSource.SURVEYED
    )
    note = models.CharField(_("备注"), max_length=1000, blank=True)
    longitude = models.FloatField(_("经度"))
    latitude = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("城市部件")
        verbose_name_plural = _("城市部件")
        ordering = ["identifier"]
        indexes = [
            models.Index(fields=["place_code"], name="component_place", opclasses=["varchar_pattern_ops"]),
            # "Components near this point": a bounding box on these two columns.
            models.Index(fields=["latitude", "longitude"], name="component_latlon"),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"


class ApiKey(TimeStampedModel):
    """An Open311 client allowed to POST requests. Only the key's SHA-256 is stored."""

    name = models.CharField(_("客户端名称"), max_length=100)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("密钥前缀"), max_length=8)
    # Reports through this key belong to this place (a street or district) and must lie inside it.
    place = models.ForeignKey(Place, verbose_name=_("受理区域"), on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def place_code(self) -> str:
        return self.place.code


class GridReport(models.Model):
    """The detail of a grid report; its life (steps, deadlines, timeline) is the work order."""

    order = models.OneToOneField(WorkOrder, primary_key=True, on_delete=models.PROTECT, related_name="grid")
    management_class = models.ForeignKey(
        ManagementClass,
        verbose_name=_("事项分类"),
        on_delete=models.PROTECT,
        related_name="reports",
        limit_choices_to={"kind": ClassKind.ITEM},
    )
    # The unit grid's code (also the order's place_code).
    place_code = models.CharField(_("单元网格"), max_length=15)
    longitude = models.FloatField(_("经度"))
    latitude = models.FloatField(_("纬度"))
    address = models.CharField(_("事发位置"), max_length=256, blank=True)
    description = models.TextField(_("问题描述"), max_length=4000, blank=True)
    component = models.ForeignKey(
        Component,
        verbose_name=_("部件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    reporter_kind = models.CharField(_("来源"), max_length=10, choices=ReporterKind.choices)
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_reports",
    )
    reporter_name = models.CharField(_("举报人"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    reporter_email = models.EmailField(_("电子邮箱"), blank=True)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    # Open311 clients may send a media_url instead of uploading a photo.
    media_url = models.URLField(_("图片链接"), max_length=500, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    # Indicator timestamps of the standard's stages (the timeline holds the full story).
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    # "Is it fixed?": asked of a resident reporter after closing; a "no" reopens the case.
    fixed_answer = models.CharField(_("是否解决"), max_length=3, choices=FixedAnswer.choices, blank=True)
    fixed_comment = models.CharField(_("回复内容"), max_length=500, blank=True)
    fixed_answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    # The token in the link the reporter gets; they answer without an account.
    followup_token = models.CharField(max_length=32, blank=True, db_index=True)

    class Meta:
        verbose_name = _("网格案件")
        verbose_name_plural = _("网格案件")
        indexes = [
            models.Index(fields=["place_code"], name="gridreport_place", opclasses=["varchar_pattern_ops"]),
            # Duplicates at filing: same class, near the point, still open.
            models.Index(
                fields=["management_class", "latitude", "longitude"], name="gridreport_class_latlon"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.management_class.name}"


class Dispatch(models.Model):
    """One dispatch of a report to a department; returns and on-time handling are counted here,
    per department, without scanning timelines."""

    report = models.ForeignKey(GridReport, on_delete=models.PROTECT, related_name="dispatches")
    department = models.ForeignKey(
        Department, verbose_name=_("处置部门"), on_delete=models.PROTECT, related_name="+"
    )
    place_code = models.CharField(max_length=15)
    dispatched_at = models.DateTimeField(_("派遣时间"))
    dispatched_by_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(_("处置期限"), null=True, blank=True)
    returned_at = models.DateTimeField(_("退单时间"), null=True, blank=True)
    return_reason = models.CharField(_("退单理由"), max_length=500, blank=True)
    handled_at = models.DateTimeField(_("处置完成"), null=True, blank=True)
    handled_on_time = models.BooleanField(_("按期处置"), null=True, blank=True)
    rework = models.BooleanField(_("返工"), default=False)

    class Meta:
        verbose_name = _("派遣记录")
        verbose_name_plural = _("派遣记录")
        ordering = ["dispatched_at", "id"]
        indexes = [
            models.Index(fields=["department", "dispatched_at"], name="dispatch_dept_time"),
            models.Index(fields=["place_code"], name="dispatch_place", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            # At most one dispatch of a report is live (neither returned nor handled) at a time.
            models.UniqueConstraint(
                fields=["report"],
                condition=Q(returned_at__isnull=True, handled_at__isnull=True),
                name="dispatch_one_live",
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.department_id}"
