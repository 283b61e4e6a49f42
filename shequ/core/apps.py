from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # Registers the `__within` lookup on CharField (place-code subtree queries).
        from . import lookups  # noqa: F401
