"""ASGI entry point, for servers that speak ASGI (e.g. granian --interface asgi)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
application = get_asgi_application()
