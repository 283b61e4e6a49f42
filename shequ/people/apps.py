from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "shequ.people"
    label = "people"
    verbose_name = _("人口信息")

    def ready(self) -> None:
        from shequ.core import periodic

        from . import changes, demo, nav, scopes  # noqa: F401  (registrations: scopes, menu, notification texts)
        from .imports import run_queued_imports

        # Large imports are queued by the upload page and run by `manage.py worker`.
        periodic.register("people.imports", run_queued_imports, every=2)
