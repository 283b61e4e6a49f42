"""The supervision centre registers a report for a caller (a phone call, 12345, a visitor at the
desk): the same fields as the inspector's page, with the caller's name and phone, photo optional."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.accounts.choices import Role
from shequ.accounts.scoping import jurisdiction, user_roles
from shequ.core.http import AuthedRequest
from shequ.workorders.selectors import visible_orders

from .forms import StaffReportForm
from .processes import REPORT_KIND
from .views import grids_under, report_context, submit_once

INTAKE_ROLES = frozenset({Role.SUPERVISION_OPERATOR})


@login_required
@require_http_methods(["GET", "POST"])
def intake(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or user_roles(user) & INTAKE_ROLES):
        raise PermissionDenied(_("只有监督受理员可以代为登记。"))
    grids = grids_under(jurisdiction(user, set(INTAKE_ROLES)) or ([""] if user.is_superuser else []))
    if request.method == "POST":
        form = StaffReportForm(request.POST)
        created, errors = submit_once(request, form, "grid.intake", user)
        if created is not None:
            return redirect(f"{reverse('grid:intake')}?{urlencode({'done': created.order.number})}")
        return render(request, "grid/intake.html", report_context(form, errors, grids), status=400)
    number = request.GET.get("done", "")
    done = visible_orders(user).filter(kind=REPORT_KIND, number=number).first() if number else None
    return render(request, "grid/intake.html", report_context(StaffReportForm(), {}, grids) | {"done": done})
