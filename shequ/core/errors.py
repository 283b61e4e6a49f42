"""Errors every module raises the same way, so pages and the API answer them the same way."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ConflictError(ValidationError):
    """The object changed under the user (someone else acted first); the message says who.
    The API answers 409."""
