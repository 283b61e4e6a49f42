"""The JSON API under /api/v1/ (django-ninja). Every error has one shape:
``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with the message in the
request's language (Chinese by default)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from shequ.accounts.api_auth import SessionOrToken
from shequ.core.errors import ConflictError

api = NinjaAPI(
    title="Shequ API",
    version="1",
    description="社区综合服务平台 API。认证：`Authorization: Bearer <令牌>`，或已登录的浏览器会话。",
    auth=SessionOrToken(),
    urls_namespace="api",
)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body: dict = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return body


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError):
    message = getattr(request, "auth_error", None) or _("需要登录或有效的 API 令牌。")
    return api.create_response(request, error_body("unauthorized", str(message)), status=401)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, error_body("not_found", _("未找到，或不在您的辖区内。")), status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(
        request, error_body("forbidden", str(exc) or _("您没有执行此操作的权限。")), status=403
    )


@api.exception_handler(ConflictError)
def _conflict(request: HttpRequest, exc: ConflictError):
    return api.create_response(request, error_body("conflict", " ".join(exc.messages)), status=409)


@api.exception_handler(ValidationError)
def _django_validation(request: HttpRequest, exc: ValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, error_body("invalid", _("提交的数据有误。"), fields), status=400)


@api.exception_handler(NinjaValidationError)
def _schema_validation(request: HttpRequest, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = ".".join(str(part) for part in err.get("loc", ())[1:]) or "__all__"
        fields.setdefault(loc, []).append(err.get("msg", ""))
    return api.create_response(request, error_body("invalid", _("提交的数据有误。"), fields), status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(request, error_body("error", str(exc)), status=exc.status_code)


api.add_router("/accounts/", "shequ.accounts.api.router")
api.add_router("/places/", "shequ.places.api.router")
api.add_router("/workorders/", "shequ.workorders.api.router")
api.add_router("/track/", "shequ.affairs.tracking_api.router")
