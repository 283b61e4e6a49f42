"""`manage.py check_calendar`: print the calendar alerts (for cron mail or a deploy checklist)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from shequ.worktime.alerts import calendar_alerts


class Command(BaseCommand):
    help = "Print warnings about years whose holiday schedule has not been entered."

    def handle(self, *args: Any, **options: Any) -> None:
        alerts = calendar_alerts()
        if not alerts:
            self.stdout.write(_("工作日历正常：无需处理的提醒。"))
            return
        for alert in alerts:
            self.stdout.write(self.style.WARNING(alert))
