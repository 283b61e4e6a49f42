"""Placeholder: replaced by the module's implementation."""

from django.http import HttpResponse


def _todo(*args, **kwargs):
    return HttpResponse("not yet", status=501)


discovery = _todo
services = _todo
service_definition = _todo
requests_view = _todo
request_detail = _todo
token = _todo
