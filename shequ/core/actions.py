"""POST-redirect-GET for one action on one object: run it once per idempotency key, turn a
refusal into a message naming what is wrong, and go back to the page (DESIGN §4.3, §4.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .idempotency import key_from, run_once


def run_action(
    request: HttpRequest, *, scope: str, action: Callable[[], Any], success: str, back: HttpResponse
) -> HttpResponse:
    """Run `action` (once per key and `scope`), report the outcome as a message, return `back`."""
    try:
        run_once(
            key=key_from(request),
            user_id=getattr(request.user, "pk", None),
            scope=scope,
            action=action,
            encode=lambda _value: True,
            decode=lambda _stored: None,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("您没有执行此操作的权限。"))
    else:
        messages.success(request, success)
    return back


def form_errors_as_messages(request: HttpRequest, form: forms.Form) -> None:
    """Each field error as a message that starts with the field's label."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else str(error))
