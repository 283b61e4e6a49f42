"""Small shared model pieces."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """One row per (user, scope, key): the first request with a key does the work, every later
    one (a double click, a client retry) gets the first result back (DESIGN §4.3)."""

    user_id = models.BigIntegerField(null=True)
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=64)
    result = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user_id", "scope", "key"], name="idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class DailySequence(models.Model):
    """The last number handed out per scope and day (work-order numbers, queue tickets, notices).
    Bumped by one atomic upsert in `shequ.core.sequences.next_value`."""

    scope = models.CharField(max_length=40)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "day"], name="dailysequence_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.day} {self.last}"
