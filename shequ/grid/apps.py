from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "shequ.grid"
    label = "grid"
    verbose_name = _("网格化管理")

    def ready(self) -> None:
        from . import demo, hooks, processes, scopes  # noqa: F401  (registrations: process, scopes, menu, demo)
