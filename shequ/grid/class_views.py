"""Placeholder: replaced by the module's implementation."""

from django.http import HttpResponse


def _todo(*args, **kwargs):
    return HttpResponse("not yet", status=501)


classes = _todo
class_edit = _todo
