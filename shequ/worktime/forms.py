"""Forms: the pasted year schedule, and the admin's override form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .models import MAX_YEAR, MIN_YEAR, CalendarOverride
from .services import ScheduleEntry

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_LINE = re.compile(
    rf"^(?P<start>{_DATE})(?:\s*(?:~|～|至)\s*(?P<end>{_DATE}))?\s+(?P<kind>\S+)(?:\s+(?P<name>.+))?$"
)
_REST_WORDS = {"休", "休息", "放假"}
_WORK_WORDS = {"班", "上班"}
_MAX_RANGE_DAYS = 31


def parse_schedule(text: str) -> list[tuple[int, ScheduleEntry]]:
    """Parse pasted lines such as "2027-01-01 休 元旦" or "2027-02-05~2027-02-11 休 春节".

    Returns (line number, entry) pairs; blank lines and lines starting with # are skipped.
    Raises one ValidationError naming every bad line.
    """
    parsed: list[tuple[int, ScheduleEntry]] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\u3000", " ").strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            errors.append(
                _(
                    "第%(line)s行：无法识别“%(text)s”，"
                    "格式应为“2027-01-01 休 元旦”或“2027-02-07 班 春节调休”。"
                )
                % {"line": number, "text": line[:40]}
            )
            continue
        try:
            start = dt.date.fromisoformat(_pad(match["start"]))
            end = dt.date.fromisoformat(_pad(match["end"])) if match["end"] else start
        except ValueError:
            errors.append(_("第%(line)s行：日期无效。") % {"line": number})
            continue
        kind = match["kind"]
        if kind in _REST_WORDS:
            working = False
        elif kind in _WORK_WORDS:
            working = True
        else:
            errors.append(_("第%(line)s行：“%(kind)s”应为“休”或“班”。") % {"line": number, "kind": kind})
            continue
        if end < start or (end - start).days >= _MAX_RANGE_DAYS:
            errors.append(
                _("第%(line)s行：日期范围应从早到晚且不超过%(max)s天。")
                % {"line": number, "max": _MAX_RANGE_DAYS}
            )
            continue
        name = (match["name"] or "").strip()
        day = start
        while day <= end:
            parsed.append((number, ScheduleEntry(day, working, name)))
            day += dt.timedelta(days=1)
    if errors:
        raise ValidationError(errors)
    return parsed


def _pad(text: str) -> str:
    """2027-2-7 -> 2027-02-07, as people type it."""
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


class YearScheduleForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    schedule = forms.CharField(
        label=gettext_lazy("节假日安排"),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "每行一条：日期 休/班 名称，例如“2027-01-01 休 元旦”“2027-02-07 班 春节调休”；"
            "连续日期可写成“2027-02-05~2027-02-11 休 春节”。录入的安排即为该年全部调整，"
            "未列出的日期按周一至周五上班、周末休息计算。"
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("备注"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("例如：国办发明电文号"),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        year, text = cleaned.get("year"), cleaned.get("schedule")
        if year is None or text is None:
            return cleaned
        try:
            numbered = parse_schedule(text)
        except ValidationError as exc:
            self.add_error("schedule", exc)
            return cleaned
        labels = [_("第%(line)s行") % {"line": number} for number, _entry in numbered]
        try:
            cleaned["entries"] = services.validate_entries(year, [e for _n, e in numbered], labels=labels)
        except ValidationError as exc:
            self.add_error("schedule", exc)
        return cleaned


class CalendarOverrideAdminForm(forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = ["date", "is_working", "name", "note"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        day = cleaned.get("date") or getattr(self.instance, "date", None)
        if day is not None and cleaned.get("is_working") is not None:
            try:
                services.validate_override(date=day, is_working=cleaned["is_working"])
            except ValidationError as exc:
                self.add_error("is_working", exc)
        return cleaned
