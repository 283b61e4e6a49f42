from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "shequ.people"
    label = "people"
    verbose_name = _("人口信息")

    def ready(self) -> None:
        from . import demo, nav, scopes  # noqa: F401  (registrations)
