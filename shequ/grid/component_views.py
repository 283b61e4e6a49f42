"""Placeholder: replaced by the module's implementation."""

from django.http import HttpResponse


def _todo(*args, **kwargs):
    return HttpResponse("not yet", status=501)


components = _todo
component_import = _todo
