from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "shequ.workorders"
    label = "workorders"
    verbose_name = _("工单引擎")

    def ready(self) -> None:
        from . import followup, hooks, scopes  # noqa: F401  (registrations)
