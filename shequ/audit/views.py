"""Read-only pages over the audit tables, scoped like everything else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shequ.accounts.scoping import VIEW, may_act, restrict
from shequ.core.pagination import keyset_page

from .models import AccessLog, ChangeLog


def _log_page(request: HttpRequest, model: type[ChangeLog] | type[AccessLog], template: str) -> HttpResponse:
    if not may_act(request.user, model, VIEW):
        raise PermissionDenied
    queryset = restrict(model.objects.all(), request.user, VIEW)
    if actor := request.GET.get("actor", "").strip():
        queryset = queryset.filter(actor_name__contains=actor)
    # Newest first: keyset on the descending id.
    page = keyset_page(queryset, request, order="-id")
    return render(request, template, {"page": page})


@login_required
def change_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, ChangeLog, "audit/change_log.html")


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, AccessLog, "audit/access_log.html")
