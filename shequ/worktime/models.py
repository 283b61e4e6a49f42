"""The administrator's part of the working-day calendar.

Rows here are written only through `services` (DESIGN §4.1); every write also renews the
`CalendarRevision` token, which is how each process learns that its cached calendar is stale.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_YEAR = 1900
MAX_YEAR = 2099  # the lunar tables (lunardate) end with 2099


class CalendarOverride(models.Model):
    """One day whose status an administrator has set: a holiday, a make-up working day, etc."""

    date = models.DateField(_("日期"), unique=True)
    is_working = models.BooleanField(_("是否上班"))
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如：春节、春节调休"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    created_by_name = models.CharField(_("录入人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        status = _("上班") if self.is_working else _("休息")
        return f"{self.date:%Y-%m-%d} {status} {self.name}".strip()


class CalendarYear(models.Model):
    """A year whose official schedule has been entered: its overrides are the whole schedule."""

    year = models.PositiveSmallIntegerField(
        _("年份"), unique=True, validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    entered_by_name = models.CharField(_("录入人"), max_length=150, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("例如：国办发明电文号"))

    class Meta:
        verbose_name = _("已录入年度")
        verbose_name_plural = _("已录入年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return _("%(year)s年") % {"year": self.year}


class CalendarRevision(models.Model):
    """A single row whose token changes with every calendar write.

    A fresh random token (not a counter) so that a rolled-back write can never leave a
    process holding a cache labelled with a token that later reappears with other data.
    """

    token = models.CharField(_("版本标识"), max_length=32)
    changed_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")

    def __str__(self) -> str:
        return self.token
