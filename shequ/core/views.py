"""The shell's own pages: entry, staff home (工作台), resident entry, health, error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from shequ.accounts.choices import Role
from shequ.accounts.scoping import user_roles


@require_GET
def entry(request: HttpRequest) -> HttpResponse:
    """Staff go to their workbench, residents to the resident page, everyone else to log in."""
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    roles = user_roles(request.user)
    if roles == {Role.RESIDENT}:
        return redirect("core:resident")
    return redirect("core:home")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from shequ.core.home import home_panels

    return render(request, "core/home.html", {"panels": home_panels(request)})


@require_GET
def resident_entry(request: HttpRequest) -> HttpResponse:
    return render(request, "core/resident.html")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the error may come from the database they would query.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
