"""Vocabulary of grid management: class kinds, limits, component states, report sources."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClassKind(models.TextChoices):
    COMPONENT = "component", _("管理部件")
    ITEM = "item", _("管理事项")


class ClassStandard(models.TextChoices):
    GBT_47678_5 = "gbt47678.5-2026", _("GB/T 47678.5-2026")
    CJT_214 = "cjt214-2007", _("CJ/T 214-2007 / GB/T 30428.2-2013")


class LimitUnit(models.TextChoices):
    HOURS = "hours", _("工作时")
    DAYS = "days", _("工作日")


class ComponentState(models.TextChoices):
    """GB/T 47678.5 管理部件状态."""

    INTACT = "intact", _("完好")
    DAMAGED = "damaged", _("破损")
    LOST = "lost", _("丢失")
    ABANDONED = "abandoned", _("废弃")
    REMOVED = "removed", _("移除")


class DataSource(models.TextChoices):
    """GB/T 47678.5 数据来源."""

    SURVEYED = "surveyed", _("实测")
    TOPOGRAPHIC = "topographic", _("地形图")
    BASE_GEODATA = "base_geodata", _("基础地理数据")
    OTHER = "other", _("其他")


class ReporterKind(models.TextChoices):
    INSPECTOR = "inspector", _("监督员上报")
    RESIDENT = "resident", _("市民举报")
    STAFF = "staff", _("代为登记")
    OPEN311 = "open311", _("Open311 接口")


class FixedAnswer(models.TextChoices):
    """The reporter's answer to "is it really fixed?" after closing."""

    YES = "yes", _("已解决")
    NO = "no", _("未解决")


# Generic filing and closing conditions (the closed loop of notes §3.1) until a city enters its own.
DEFAULT_FILING_CONDITION = _("经监督员核实属实，位于本辖区，属于本类别的处置范围。")
DEFAULT_CLOSING_CONDITION = _("处置部门反馈已处置，并附处置后照片；监督员现场核查与反馈一致。")

# Duplicate reports are offered for merging within this radius (metres) unless a city sets its own.
DEFAULT_DUPLICATE_RADIUS_M = 50
