"""Codes of holidays and of the source that decided how a day is classified."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Holiday(models.TextChoices):
    """Statutory holidays of 《全国年节及纪念日放假办法》, plus one-off ones the package knows."""

    NEW_YEAR = "new_year", _("元旦")
    SPRING_FESTIVAL = "spring_festival", _("春节")
    QINGMING = "qingming", _("清明节")
    LABOUR_DAY = "labour_day", _("劳动节")
    DRAGON_BOAT = "dragon_boat", _("端午节")
    MID_AUTUMN = "mid_autumn", _("中秋节")
    NATIONAL_DAY = "national_day", _("国庆节")
    ANTI_FASCIST_70 = "anti_fascist_70", _("抗战胜利70周年纪念日")


class DaySource(models.TextChoices):
    """Which rule decided a day, in order of precedence."""

    OVERRIDE = "override", _("管理员设置")
    ENTERED_YEAR = "entered_year", _("已录入年度安排")
    OFFICIAL = "official", _("国务院公布的安排")
    PROVISIONAL = "provisional", _("临时规则")
