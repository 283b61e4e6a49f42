"""The resident database (人、户、房): houses, households with their members, persons and their
tags. Every other module reads people from here ("collect once, use many times", seed 004).

Scoping: each row carries the code of the committee it lies in (``place_code``); a person's is
the committee of the house they actually live in (their actual household's house), so a
committee worker sees the people who live in their committee.

History: persons, houses, households, memberships and tags keep every version
(django-simple-history), so a page can show a person "as it was on date D". Moves are kept as
memberships with a join and a leave date, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from shequ.core.models import TimeStampedModel

from .choices import (
    DISABILITY_LEVELS,
    ChangeStatus,
    DocumentType,
    FieldGroup,
    Gender,
    HouseholdKind,
    HouseKind,
    ImportStatus,
    PersonStatus,
    Relation,
    ResidenceType,
    Tag,
)


class House(TimeStampedModel):
    """A dwelling with its standard address: the committee's code fixes district, street and
    committee; then estate (小区 or road and lane), building, unit and room."""

    place_code = models.CharField(_("居委会代码"), max_length=15)
    grid_code = models.CharField(_("所在单元网格"), max_length=15, blank=True)
    estate = models.CharField(_("小区/路弄"), max_length=100)
    building = models.CharField(_("楼号"), max_length=20)
    unit = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("室号"), max_length=20)
    kind = models.CharField(_("房屋类型"), max_length=12, choices=HouseKind.choices, default=HouseKind.OWNED)
    address = models.CharField(_("地址"), max_length=200, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        constraints = [
            models.UniqueConstraint(
                fields=["place_code", "estate", "building", "unit", "room"], name="house_unique_address"
            )
        ]
        indexes = [
            models.Index(fields=["place_code"], name="house_place", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["address"], name="house_address", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = compose_address(self.estate, self.building, self.unit, self.room)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


def compose_address(estate: str, building: str, unit: str, room: str) -> str:
    """长清路 100 弄 3 号 2 单元 501 室 → "长清路100弄3号2单元501室" (no spaces, as written on mail)."""
    parts = [estate.strip(), f"{building.strip()}号"]
    if unit.strip():
        parts.append(f"{unit.strip()}单元")
    parts.append(f"{room.strip()}室")
    return "".join(p.replace(" ", "") for p in parts)


class Person(TimeStampedModel):
    name = models.CharField(_("姓名"), max_length=50)
    # Search keys, kept in step with the name by services.set_name: "wangxiuying", "wxy".
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, editable=False)
    name_initials = models.CharField(_("拼音首字母"), max_length=50, editable=False)
    id_type = models.CharField(
        _("证件类型"), max_length=12, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    id_number = models.CharField(_("证件号码"), max_length=30)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    residence_type = models.CharField(
        _("人口类型"), max_length=12, choices=ResidenceType.choices, default=ResidenceType.REGISTERED
    )
    residence_permit_number = models.CharField(_("居住证号码"), max_length=30, blank=True)
    residence_permit_expiry = models.DateField(_("居住证有效期至"), null=True, blank=True)
    # Where the household registration (户籍) is, when it is not one of our households.
    registered_address = models.CharField(_("户籍地址"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    status_on = models.DateField(_("状态变更日期"), null=True, blank=True)
    # The committee of the house the person lives in (the scoping column); blank if unknown.
    place_code = models.CharField(_("居住地居委会代码"), max_length=15, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords(excluded_fields=["name_pinyin", "name_initials", "version"])

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints = [
            # One person, one row, whatever their status: a second registration is a duplicate.
            models.UniqueConstraint(fields=["id_type", "id_number"], name="person_unique_document"),
            models.CheckConstraint(
                condition=Q(residence_type="incoming") | Q(residence_permit_number=""),
                name="person_permit_only_incoming",
            ),
        ]
        indexes = [
            models.Index(fields=["place_code"], name="person_place", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["phone"], name="person_phone"),
            models.Index(fields=["name"], name="person_name", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name_pinyin"], name="person_pinyin", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name_initials"], name="person_initials", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["birth_date"], name="person_birth"),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: dt.date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Household(TimeStampedModel):
    """户: the registered household (户籍户, as in the household register) or the household that
    actually lives in a house (实住户). A person belongs to at most one of each at a time."""

    kind = models.CharField(_("户类型"), max_length=12, choices=HouseholdKind.choices)
    number = models.CharField(_("户号"), max_length=30, blank=True)
    house = models.ForeignKey(
        House, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households"
    )
    place_code = models.CharField(_("居委会代码"), max_length=15)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        indexes = [
            models.Index(fields=["place_code"], name="household_place", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.house}"


class Membership(models.Model):
    """A person in a household from `joined_on` until `left_on` (moves are kept, not overwritten)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    kind = models.CharField(max_length=12, choices=HouseholdKind.choices, editable=False)  # = household.kind
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices)
    joined_on = models.DateField(_("迁入日期"))
    left_on = models.DateField(_("迁出日期"), null=True, blank=True)
    left_reason = models.CharField(_("迁出原因"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("户成员")
        verbose_name_plural = _("户成员")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(left_on__isnull=True),
                name="one_current_household_per_kind",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(left_on__isnull=True, relation="head"),
                name="one_current_head_per_household",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="membership_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["household", "left_on"], name="membership_household")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.household}"


class PersonTag(TimeStampedModel):
    """A maintained tag (disability, 低保 …) with its source and validity; a business overlay
    (assistance, elderly care) points at the person instead of copying them."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="tags")
    tag = models.CharField(_("标签"), max_length=20, choices=Tag.choices)
    level = models.PositiveSmallIntegerField(_("等级"), null=True, blank=True, choices=DISABILITY_LEVELS)
    source = models.CharField(_("数据来源"), max_length=100)
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("截止日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "tag"], condition=Q(until__isnull=True), name="one_open_tag_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("since")), name="tag_until_after_since"
            ),
        ]
        indexes = [models.Index(fields=["tag", "until"], name="tag_kind")]

    def __str__(self) -> str:
        return f"{self.person} {self.get_tag_display()}"


class Rental(TimeStampedModel):
    """租赁登记: a house let by its landlord to tenants for a period."""

    house = models.ForeignKey(House, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="rentals")
    landlord = models.ForeignKey(
        Person, verbose_name=_("出租人"), on_delete=models.PROTECT, related_name="rentals_let"
    )
    tenants = models.ManyToManyField(Person, verbose_name=_("承租人"), related_name="rentals")
    starts_on = models.DateField(_("租期开始"))
    ends_on = models.DateField(_("租期结束"))
    place_code = models.CharField(_("居委会代码"), max_length=15, editable=False)

    class Meta:
        verbose_name = _("租赁登记")
        verbose_name_plural = _("租赁登记")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="rental_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.house} {self.starts_on}–{self.ends_on}"


class ApprovalPolicy(models.Model):
    """Whether a street requires its approval for edits to one group of fields made by a
    committee worker (absent: `choices.DEFAULT_APPROVAL`)."""

    street_code = models.CharField(_("街道代码"), max_length=9)
    field_group = models.CharField(_("字段组"), max_length=12, choices=FieldGroup.choices)
    requires_approval = models.BooleanField(_("需街道审核"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("变更审核设置")
        verbose_name_plural = _("变更审核设置")
        constraints = [
            models.UniqueConstraint(fields=["street_code", "field_group"], name="approval_policy_unique")
        ]

    def __str__(self) -> str:
        return f"{self.street_code} {self.get_field_group_display()}"


class ChangeRequest(TimeStampedModel):
    """An edit of one person's fields in one group: applied at once, or waiting for the street.
    `before` holds the values the requester saw; approval refuses if they changed meanwhile."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="change_requests")
    field_group = models.CharField(_("字段组"), max_length=12, choices=FieldGroup.choices)
    before = models.JSONField(_("修改前"))
    after = models.JSONField(_("修改后"))
    reason = models.CharField(_("变更原因"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=12, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    place_code = models.CharField(_("居委会代码"), max_length=15)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("信息变更申请")
        verbose_name_plural = _("信息变更申请")
        constraints = [
            # One pending change per person and group: a second one would overwrite the first.
            models.UniqueConstraint(
                fields=["person", "field_group"],
                condition=Q(status="pending"),
                name="one_pending_change_per_group",
            )
        ]
        indexes = [
            models.Index(
                fields=["place_code"],
                condition=Q(status="pending"),
                name="change_pending_place",
                opclasses=["varchar_pattern_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_field_group_display()} {self.get_status_display()}"


class ImportJob(TimeStampedModel):
    """One upload of a committee's sheet: its progress while it runs and its row errors after.
    Small files run in the request; large ones are queued for the worker."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    place_code = models.CharField(_("居委会代码"), max_length=15)
    filename = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(_("文件"), upload_to="people-imports/%Y/%m/", blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    houses_created = models.PositiveIntegerField(_("新增房屋"), default=0)
    persons_created = models.PositiveIntegerField(_("新增人员"), default=0)
    persons_updated = models.PositiveIntegerField(_("更新人员"), default=0)
    # [[sheet, row, field, message], …] as the user sees them (header is row 1).
    errors = models.JSONField(_("错误"), default=list, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("人口数据导入")
        verbose_name_plural = _("人口数据导入")
        indexes = [models.Index(fields=["status", "created_at"], name="importjob_status")]

    def __str__(self) -> str:
        return f"{self.filename} {self.get_status_display()}"
