from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "shequ.accounts"
    label = "accounts"
    verbose_name = _("人员与权限")

    def ready(self) -> None:
        from . import nav, scopes, signals  # noqa: F401  (registrations)
