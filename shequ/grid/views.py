"""Placeholder: replaced by the module's implementation."""

from django.http import HttpResponse


def _todo(*args, **kwargs):
    return HttpResponse("not yet", status=501)


cases = _todo
report = _todo
nearby = _todo
case = _todo
case_action = _todo
public_report = _todo
followup = _todo
