from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AffairsConfig(AppConfig):
    name = "shequ.affairs"
    label = "affairs"
    verbose_name = _("一门式受理")

    def ready(self) -> None:
        from . import demo, hooks, processes, scopes  # noqa: F401  (registrations)
