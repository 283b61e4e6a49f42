"""Placeholder: replaced by the module's implementation."""

from django.http import HttpResponse


def _todo(*args, **kwargs):
    return HttpResponse("not yet", status=501)


evaluation = _todo
evaluation_export = _todo
