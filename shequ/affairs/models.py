"""The one-door acceptance centre (一门式受理): the catalogue of matters, cases, one-time notices
and first-inquiry records.

A case is a work order of kind ``affairs.case`` (see `processes.py`); `Case` holds what only
the acceptance centre needs (the matter, the applicant as entered, the materials received, how
the result is delivered). The applicant's identity number is kept for the back office and shown
masked everywhere; reveals go through the access log.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core.models import TimeStampedModel
from shequ.workorders.models import WorkOrder

from .choices import DeliveryMethod, IdType, ItemType, MaterialForm, MatterCategory


class Matter(TimeStampedModel):
    """One kind of matter the centre accepts (事项), with what it needs and how long it takes."""

    code = models.SlugField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=20, choices=MatterCategory.choices)
    item_type = models.CharField(_("事项类型"), max_length=20, choices=ItemType.choices)
    # The code of the back-office department (科室) of the street that examines it.
    department_code = models.SlugField(_("承办科室"), max_length=40)
    # Further departments that examine in parallel (后台协同), by code.
    cooperating_departments = models.JSONField(_("协同科室"), default=list, blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    procedure = models.JSONField(_("办理流程"), default=list, blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"), null=True, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"))
    on_the_spot = models.BooleanField(_("当场办结"), default=False)
    fee = models.CharField(_("收费标准"), max_length=200, default="不收费")
    delivery_options = models.JSONField(_("送达方式"), default=list, blank=True)
    proxy_allowed = models.BooleanField(_("可代办"), default=True)
    visits = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    is_active = models.BooleanField(_("有效"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项目录")
        ordering = ["category", "sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def delivery_labels(self) -> list[str]:
        return [
            str(DeliveryMethod(value).label)
            for value in self.delivery_options
            if value in DeliveryMethod.values
        ]


class MatterMaterial(models.Model):
    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=200)
    form = models.CharField(
        _("材料形式"), max_length=12, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    source = models.CharField(_("来源"), max_length=100, default="申请人自备")
    mandatory = models.BooleanField(_("必需"), default=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["matter", "sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class Applicant(models.Model):
    """The applicant as the desk entered them, and the resident on record they were found to be
    (the desk matches the document number against the resident database in the clerk's places)."""

    name = models.CharField(_("申请人姓名"), max_length=50)
    id_type = models.CharField(
        _("证件类型"), max_length=12, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("证件号码"), max_length=30)
    phone = models.CharField(_("联系电话"), max_length=20)
    address = models.CharField(_("联系地址"), max_length=200, blank=True)
    # PROTECT: a resident's record is never deleted (death and cancellation are statuses), and a
    # case is a legal record that must not silently lose who it was for.
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("居民"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="affairs_%(class)ss",
    )

    class Meta:
        abstract = True


class Case(Applicant):
    order = models.OneToOneField(WorkOrder, on_delete=models.PROTECT, related_name="case", primary_key=True)
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="cases", verbose_name=_("事项"))
    place_code = models.CharField(_("区划代码"), max_length=15)
    # A proxy (代办人) applying for the applicant.
    proxy_name = models.CharField(_("代办人"), max_length=50, blank=True)
    proxy_id_number = models.CharField(_("代办人证件号码"), max_length=30, blank=True)
    materials_received = models.JSONField(_("已收材料"), default=list, blank=True)
    on_the_spot = models.BooleanField(_("当场办结"), default=False)
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, default=DeliveryMethod.WINDOW
    )
    delivery_address = models.CharField(_("送达地址"), max_length=200, blank=True)
    tracking_number = models.CharField(_("快递单号"), max_length=50, blank=True)
    decision = models.CharField(_("办理结果"), max_length=12, blank=True)  # approved / rejected
    accepted_by_id = models.BigIntegerField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), auto_now_add=True)
    # Home visit (上门服务) booked for an applicant over 70 or disabled.
    home_visit_at = models.DateTimeField(_("上门服务时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("受理件")
        verbose_name_plural = _("受理件")
        indexes = [
            models.Index(fields=["place_code"], name="case_place_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["matter", "accepted_at"], name="case_matter_time"),
            models.Index(fields=["accepted_by_id", "accepted_at"], name="case_staff_time"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.matter.name}"


class OneTimeNotice(Applicant):
    """一次性告知书: everything the applicant still lacks, told once and in writing."""

    number = models.CharField(_("告知书编号"), max_length=24, unique=True)
    matter = models.ForeignKey(
        Matter, on_delete=models.PROTECT, related_name="notices", verbose_name=_("事项")
    )
    place_code = models.CharField(_("区划代码"), max_length=15)
    missing = models.JSONField(_("欠缺材料"), default=list)
    note = models.TextField(_("其他说明"), blank=True)
    issued_by_id = models.BigIntegerField(null=True, blank=True)
    issued_by_name = models.CharField(max_length=150, blank=True)
    issued_at = models.DateTimeField(_("告知时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("一次性告知书")
        verbose_name_plural = _("一次性告知书")
        indexes = [
            models.Index(fields=["place_code"], name="notice_place_prefix", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.number


class Inquiry(models.Model):
    """首问负责: an inquiry answered at the desk that did not (yet) become a case."""

    place_code = models.CharField(_("区划代码"), max_length=15)
    staff_id = models.BigIntegerField(_("首问人ID"))
    staff_name = models.CharField(_("首问人"), max_length=150)
    matter = models.ForeignKey(
        Matter,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inquiries",
        verbose_name=_("事项"),
    )
    channel = models.CharField(_("渠道"), max_length=12, default="counter")
    visitor_name = models.CharField(_("来访人"), max_length=50, blank=True)
    visitor_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    question = models.TextField(_("咨询内容"))
    answer = models.TextField(_("答复"))
    referred_to = models.CharField(_("引导至"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("首问登记")
        verbose_name_plural = _("首问登记")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["place_code"], name="inquiry_place_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["staff_id", "created_at"], name="inquiry_staff_time"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_name} {self.question[:20]}"
