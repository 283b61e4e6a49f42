from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorktimeConfig(AppConfig):
    name = "shequ.worktime"
    label = "worktime"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        # Menu entry and home-page alert panel; both registries live in other apps.
        from . import hooks  # noqa: F401
