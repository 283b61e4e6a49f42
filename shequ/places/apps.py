from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "shequ.places"
    label = "places"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from . import nav, scopes  # noqa: F401  (registrations)
