"""API authentication: a bearer token, or the browser session (with CSRF on writes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from .services import authenticate_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user, error = authenticate_token(token)
        if user is None:
            request.auth_error = error  # type: ignore[attr-defined]
            return None
        request.user = user
        return user


def SessionOrToken() -> list:
    return [BearerToken(), django_auth]
