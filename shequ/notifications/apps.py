from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "shequ.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        # Menu entry and home-page panel (registries of other apps); the message templates.
        from . import nav, templates  # noqa: F401
