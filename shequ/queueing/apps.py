from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueueingConfig(AppConfig):
    name = "shequ.queueing"
    label = "queueing"
    verbose_name = _("排队叫号")

    def ready(self) -> None:
        from shequ.core import periodic

        from . import demo, nav, notify, origins, scopes  # noqa: F401  (registrations)
        from .services import close_past_days, mark_missed_appointments

        periodic.register("queueing.missed_appointments", mark_missed_appointments, every=60)
        periodic.register("queueing.close_past_days", close_past_days, every=600)
