"""WSGI entry point (gunicorn shequ.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
application = get_wsgi_application()
