"""Every write to the calendar (DESIGN §4.1): views, admin and commands call these.

Each write, in one transaction: renews the revision token first (on PostgreSQL the row lock
also serialises concurrent calendar writes), changes the rows, writes an audit row, then runs
the registered recompute callbacks so stored provisional deadlines follow the new calendar.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot

from .calendar import REVISION_PK, holiday_label, statutory_holidays
from .models import MAX_YEAR, MIN_YEAR, CalendarOverride, CalendarRevision, CalendarYear
from .registry import run_recompute

NAME_MAX_LENGTH = CalendarOverride._meta.get_field("name").max_length or 50


class ScheduleEntry(NamedTuple):
    date: dt.date
    is_working: bool
    name: str = ""


@dataclass(frozen=True)
class YearEntrySummary:
    """What `enter_year` did, for the confirmation message and for logs."""

    year: int
    created: int
    updated: int
    deleted: int
    recomputed: dict[str, int] = field(default_factory=dict)

    @property
    def recomputed_total(self) -> int:
        return sum(self.recomputed.values())

    @property
    def message(self) -> str:
        return _(
            "已录入%(year)s年节假日安排：新增%(created)s天，修改%(updated)s天，删除%(deleted)s天；"
            "重算临时期限%(recomputed)s个。"
        ) % {
            "year": self.year,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "recomputed": self.recomputed_total,
        }


def actor_name(by: Any) -> str:
    """A user's display name, or the given string for a command or system actor."""
    if isinstance(by, str):
        return by[:150]
    name = getattr(by, "display_name", None) or (by.get_username() if by is not None else "")
    return str(name)[:150]


def _renew_revision() -> None:
    """New token for the calendar; every process reloads its snapshot on its next read."""
    token = uuid.uuid4().hex
    now = timezone.now()
    if not CalendarRevision.objects.filter(pk=REVISION_PK).update(token=token, changed_at=now):
        CalendarRevision.objects.create(pk=REVISION_PK, token=token, changed_at=now)


def _check_year(year: Any) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            _("年份必须是%(min)s至%(max)s之间的整数。") % {"min": MIN_YEAR, "max": MAX_YEAR}, code="year"
        )
    return year


def _statutory_name(day: dt.date) -> str | None:
    codes = statutory_holidays(day.year).get(day)
    return "、".join(holiday_label(code) for code in codes) if codes else None


def validate_override(*, date: dt.date, is_working: bool, label: str = "") -> None:
    """Refuse to make a statutory holiday a working day: a known holiday is never one."""
    _check_year(date.year)
    if not is_working:
        return
    holiday = _statutory_name(date)
    if holiday:
        message = _("%(date)s 是法定节假日（%(holiday)s），不能设为上班日。") % {
            "date": date.isoformat(),
            "holiday": holiday,
        }
        raise ValidationError(f"{label}：{message}" if label else message, code="statutory_holiday")


def validate_entries(
    year: int, entries: Iterable[Sequence[Any]], *, labels: Sequence[str] | None = None
) -> list[ScheduleEntry]:
    """Check a year's schedule and return it normalised; one error per bad row, all at once.

    `labels` name the rows in messages (the paste form passes "第3行"); by default "第3条".
    """
    year = _check_year(year)
    rows = list(entries)
    if labels is None:
        labels = [_("第%(n)s条") % {"n": index} for index in range(1, len(rows) + 1)]
    if not rows:
        raise ValidationError(_("请至少录入一条安排。"), code="empty")
    errors: list[str] = []
    seen: dict[dt.date, str] = {}
    result: list[ScheduleEntry] = []
    for label, row in zip(labels, rows, strict=True):
        try:
            entry = ScheduleEntry(*row)
        except TypeError:
            errors.append(_("%(row)s：应为（日期, 是否上班, 名称）。") % {"row": label})
            continue
        day, working, name = entry
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            errors.append(_("%(row)s：“%(value)s”不是日期。") % {"row": label, "value": day})
            continue
        if not isinstance(working, bool):
            errors.append(_("%(row)s：是否上班必须是“是”或“否”。") % {"row": label})
            continue
        name = str(name or "").strip()
        if day.year != year:
            errors.append(
                _("%(row)s：日期 %(date)s 不在%(year)s年内。")
                % {"row": label, "date": day.isoformat(), "year": year}
            )
            continue
        if day in seen:
            errors.append(
                _("%(row)s：日期 %(date)s 与%(other)s重复。")
                % {"row": label, "date": day.isoformat(), "other": seen[day]}
            )
            continue
        seen[day] = label
        if len(name) > NAME_MAX_LENGTH:
            errors.append(_("%(row)s：名称不能超过%(max)s个字。") % {"row": label, "max": NAME_MAX_LENGTH})
            continue
        try:
            validate_override(date=day, is_working=working, label=label)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        result.append(ScheduleEntry(day, working, name))
    if errors:
        raise ValidationError(errors)
    return result


@transaction.atomic
def enter_year(*, year: int, entries: Iterable[Sequence[Any]], by: Any, note: str = "") -> YearEntrySummary:
    """Record a year's official schedule (from the State Council notice) as the whole truth.

    The entries replace every override of that year; the year is marked entered, so its other
    days are plain weekdays and weekends; then provisional deadlines of the year are recomputed.
    Nothing is written if any entry is invalid.
    """
    schedule = validate_entries(year, entries)
    _renew_revision()
    name = actor_name(by)
    now = timezone.now()
    existing = {
        o.date: o
        for o in CalendarOverride.objects.filter(
            date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
        )
    }
    created = updated = 0
    for entry in schedule:
        current = existing.pop(entry.date, None)
        if current is None:
            CalendarOverride.objects.create(
                date=entry.date,
                is_working=entry.is_working,
                name=entry.name,
                created_at=now,
                created_by_name=name,
            )
            created += 1
        elif (current.is_working, current.name) != (entry.is_working, entry.name):
            current.is_working, current.name = entry.is_working, entry.name
            current.created_at, current.created_by_name = now, name
            current.save(update_fields=["is_working", "name", "created_at", "created_by_name"])
            updated += 1
    deleted = len(existing)
    if existing:
        CalendarOverride.objects.filter(pk__in=[o.pk for o in existing.values()]).delete()
    calendar_year, _created = CalendarYear.objects.update_or_create(
        year=year, defaults={"entered_at": now, "entered_by_name": name, "note": note[:200]}
    )
    record_change(
        actor=by,
        action=ChangeAction.CALENDAR,
        obj=calendar_year,
        after={
            "year": year,
            "entries": [[e.date.isoformat(), e.is_working, e.name] for e in schedule],
            "created": created,
            "updated": updated,
            "deleted": deleted,
        },
        only_changes=False,
    )
    recomputed = run_recompute(year)
    return YearEntrySummary(
        year=year, created=created, updated=updated, deleted=deleted, recomputed=recomputed
    )


@transaction.atomic
def set_override(
    *, date: dt.date, is_working: bool, name: str = "", note: str = "", by: Any
) -> CalendarOverride:
    """Set one day's status (create or replace), then recompute that year's provisional deadlines."""
    _check_year(date.year)
    validate_override(date=date, is_working=is_working)
    _renew_revision()
    before_obj = CalendarOverride.objects.filter(date=date).first()
    before = snapshot(before_obj) if before_obj else None
    override, _created = CalendarOverride.objects.update_or_create(
        date=date,
        defaults={
            "is_working": is_working,
            "name": name.strip(),
            "note": note.strip(),
            "created_at": timezone.now(),
            "created_by_name": actor_name(by),
        },
    )
    record_change(
        actor=by, action=ChangeAction.CALENDAR, obj=override, before=before, after=snapshot(override)
    )
    run_recompute(date.year)
    return override


@transaction.atomic
def delete_override(*, date: dt.date, by: Any) -> bool:
    """Remove one day's override; returns False when there was none."""
    override = CalendarOverride.objects.filter(date=date).first()
    if override is None:
        return False
    _renew_revision()
    before = snapshot(override)
    record_change(actor=by, action=ChangeAction.CALENDAR, obj=override, before=before, after=None)
    override.delete()
    run_recompute(date.year)
    return True


@transaction.atomic
def mark_year_entered(*, year: int, by: Any, note: str = "") -> CalendarYear:
    """Mark a year whose overrides were set one by one as complete (the admin's path)."""
    year = _check_year(year)
    _renew_revision()
    calendar_year, _created = CalendarYear.objects.update_or_create(
        year=year,
        defaults={"entered_at": timezone.now(), "entered_by_name": actor_name(by), "note": note[:200]},
    )
    record_change(actor=by, action=ChangeAction.CALENDAR, obj=calendar_year, after=snapshot(calendar_year))
    run_recompute(year)
    return calendar_year


@transaction.atomic
def unmark_year(*, year: int, by: Any) -> bool:
    """Forget that a year was entered; its days fall back to the package or provisional rules."""
    calendar_year = CalendarYear.objects.filter(year=year).first()
    if calendar_year is None:
        return False
    _renew_revision()
    record_change(actor=by, action=ChangeAction.CALENDAR, obj=calendar_year, before=snapshot(calendar_year))
    calendar_year.delete()
    run_recompute(year)
    return True
