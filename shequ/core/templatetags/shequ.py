"""Template helpers shared by every app: `{% load shequ %}`."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from shequ.core import masking
from shequ.core.idempotency import FORM_FIELD, new_key

register = template.Library()


@register.simple_tag
def idempotency_field() -> str:
    """A hidden field with a fresh key: a double click or a resubmission of this form is a no-op."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, new_key())


@register.filter
def mask_phone(value: str | None) -> str:
    return masking.mask_phone(value)


@register.filter
def mask_id_number(value: str | None) -> str:
    return masking.mask_id_number(value)
