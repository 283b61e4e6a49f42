"""The class tables (/grid/classes/): every staff member may read them; a superuser or a leader of
a city or a district edits a class's department, limit and conditions, because the tables are
one for the whole city (a street leader would change them for the streets next door too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.choices import STAFF_ROLES, Role
from shequ.accounts.scoping import active_assignments, user_roles
from shequ.core.http import AuthedRequest
from shequ.places.choices import PlaceKind

from .choices import ClassKind
from .models import ManagementClass

MAX_ROWS = 500
EDITOR_PLACE_KINDS = {PlaceKind.CITY, PlaceKind.DISTRICT}


def may_edit_classes(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(a.role == Role.LEADER and a.place.kind in EDITOR_PLACE_KINDS for a in active_assignments(user))


def _may_read(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or user_roles(user) & STAFF_ROLES)


class ClassForm(forms.ModelForm):
    class Meta:
        model = ManagementClass
        fields = [
            "department_code",
            "department_name",
            "limit",
            "limit_unit",
            "filing_condition",
            "closing_condition",
            "is_active",
        ]
        widgets = {
            "filing_condition": forms.Textarea(attrs={"rows": 3}),
            "closing_condition": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        data = super().clean() or {}
        if data.get("department_code") and not data.get("department_name"):
            self.add_error("department_name", _("填写了默认责任部门代码时，请同时填写部门名称。"))
        if self.instance.kind == ClassKind.ITEM and not data.get("limit"):
            self.add_error("limit", _("事项类别须有处置时限。"))
        return data


@login_required
@require_GET
def classes(request: AuthedRequest) -> HttpResponse:
    if not _may_read(request.user):
        raise PermissionDenied
    rows = ManagementClass.objects.all()
    kind = request.GET.get("kind", "")
    if kind in ClassKind.values:
        rows = rows.filter(kind=kind)
    major = request.GET.get("major", "").strip()
    if major:
        rows = rows.filter(major_code=major)
    q = request.GET.get("q", "").strip()
    if q:
        rows = rows.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(major_name__icontains=q))
    majors = sorted(set(ManagementClass.objects.values_list("major_code", "major_name")))
    found = list(rows.order_by("kind", "code")[: MAX_ROWS + 1])
    return render(
        request,
        "grid/classes.html",
        {
            "rows": found[:MAX_ROWS],
            "capped": len(found) > MAX_ROWS,
            "kinds": ClassKind.choices,
            "majors": majors,
            "chosen": {"kind": kind, "major": major, "q": q},
            "may_edit": may_edit_classes(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def class_edit(request: AuthedRequest, kind: str, code: str) -> HttpResponse:
    if not _may_read(request.user):
        raise PermissionDenied
    found = ManagementClass.objects.filter(kind=kind, code=code).first()
    if found is None:
        raise Http404
    editable = may_edit_classes(request.user)
    form = ClassForm(instance=found)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        form = ClassForm(request.POST, instance=found)
        if form.is_valid():
            with transaction.atomic():
                saved = form.save(commit=False)
                saved.edited = True
                saved.save()
            messages.success(
                request, _("已保存分类 %(code)s %(name)s。") % {"code": code, "name": found.name}
            )
            return redirect("grid:class_edit", kind=kind, code=code)
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    legacy = found.legacy_classes.order_by("standard", "code")
    return render(
        request,
        "grid/class_edit.html",
        {"cls": found, "form": form, "editable": editable, "legacy": legacy},
        status=400 if form.errors else 200,
    )
