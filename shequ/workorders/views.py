"""Pages of the engine: the inbox (工作台 list), an order's detail with its timeline, and the
POST endpoints of every action. Thin: each POST calls one service and redirects back (PRG);
errors come back as a message naming what is wrong, and nothing is half-written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequ.accounts.models import Department, User
from shequ.accounts.scoping import VIEW, get_scoped_or_404, restrict, user_roles
from shequ.core.actions import form_errors_as_messages, run_action
from shequ.core.http import AuthedRequest
from shequ.core.masking import mask_phone

from . import services
from .attachments import attach
from .choices import CLOSED, RatingLevel, SlaState
from .forms import ActionForm, AssignForm, AttachForm, CommentForm, PauseForm, RateForm
from .models import WorkOrder
from .permissions import available_transitions, may_handle
from .process import get_process, processes
from .selectors import InboxFilters, inbox_page, visible_orders


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    filters = InboxFilters.from_request(request)
    page = inbox_page(request.user, request, filters)
    roles = user_roles(request.user)
    kinds = [p for p in processes() if request.user.is_superuser or roles & p.all_roles()]
    steps = get_process(filters.kind).steps if filters.kind in {p.kind for p in kinds} else []
    return render(
        request,
        "workorders/inbox.html",
        {"page": page, "filters": filters, "kinds": kinds, "steps": steps, "sla_states": SlaState.choices},
    )


def event_labels(process: Any, event: Any) -> dict[str, str]:
    """What a timeline entry shows: the action's own label (审核通过) and the steps' labels."""
    transition = (
        process.transition(event.step_from, event.data.get("action", "")) if event.step_from else None
    )
    return {
        "title": str(transition.label) if transition else str(event.get_kind_display()),
        "from": str(process.step_label(event.step_from)) if event.step_from else "",
        "to": str(process.step_label(event.step_to)) if event.step_to else "",
    }


def _order(request: AuthedRequest, number: str) -> WorkOrder:
    return get_scoped_or_404(visible_orders(request.user), request.user, VIEW, number=number)


@login_required
@require_GET
def detail(request: AuthedRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    process = order.process
    events = [(e, event_labels(process, e)) for e in order.events.all()[:500]]
    attachments = list(order.attachments.all())
    step = process.step(order.step) if order.step not in (CLOSED, "cancelled") else None
    can_handle = step is not None and may_handle(request.user, order, step.actors)
    departments = restrict(Department.objects.filter(is_active=True), request.user, VIEW).select_related(
        "place"
    )
    rating = getattr(order, "rating_record", None)
    return render(
        request,
        "workorders/detail.html",
        {
            "order": order,
            "process": process,
            "subject_phone": mask_phone(order.subject_phone),
            "events": events,
            "attachments": attachments,
            "transitions": available_transitions(request.user, order),
            "can_handle": can_handle,
            "pause_reasons": process.pause_reasons.items(),
            "departments": departments[:200],
            "rating": rating,
            "can_rate": order.step == CLOSED and process.rated and rating is None,
            "rating_levels": RatingLevel.choices,
            "children": order.children.all()[:20],
        },
    )


def _act(
    request: AuthedRequest, number: str, scope: str, do: Callable[[WorkOrder], Any], success: str
) -> HttpResponse:
    order = _order(request, number)
    return run_action(
        request,
        scope=f"workorders.{scope}.{order.pk}",
        action=lambda: do(order),
        success=success,
        back=redirect("workorders:detail", number=number),
    )


def _invalid(request: AuthedRequest, number: str, form: Any) -> HttpResponse:
    form_errors_as_messages(request, form)
    return redirect("workorders:detail", number=number)


@login_required
@require_POST
def act(request: AuthedRequest, number: str) -> HttpResponse:
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form)
    data = form.cleaned_data
    return _act(
        request,
        number,
        "act",
        lambda order: services.perform(
            order=order,
            by=request.user,
            action=data["action"],
            comment=data["comment"],
            expected_version=data["version"],
        ),
        _("已提交。"),
    )


@login_required
@require_POST
def assign(request: AuthedRequest, number: str) -> HttpResponse:
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form)
    data = form.cleaned_data
    department = None
    if data["department"]:
        department = get_scoped_or_404(Department.objects.all(), request.user, VIEW, pk=data["department"])
    user = None
    if data["username"]:
        user = User.objects.filter(username=data["username"], is_active=True).first()
        if user is None:
            messages.error(request, _("承办人“%(name)s”不存在或已停用。") % {"name": data["username"]})
            return redirect("workorders:detail", number=number)
    return _act(
        request,
        number,
        "assign",
        lambda order: services.assign(
            order=order,
            by=request.user,
            user=user,
            department=department,
            comment=data["comment"],
            expected_version=data["version"],
        ),
        _("已转办。"),
    )


@login_required
@require_POST
def comment(request: AuthedRequest, number: str) -> HttpResponse:
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form)
    text = form.cleaned_data["comment"]
    return _act(
        request,
        number,
        "comment",
        lambda order: services.add_comment(order=order, by=request.user, text=text),
        _("备注已添加。"),
    )


@login_required
@require_POST
def pause(request: AuthedRequest, number: str) -> HttpResponse:
    form = PauseForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form)
    data = form.cleaned_data
    return _act(
        request,
        number,
        "pause",
        lambda order: services.pause(
            order=order,
            by=request.user,
            reason=data["reason"],
            comment=data["comment"],
            expected_version=data["version"],
        ),
        _("已暂停计时。"),
    )


@login_required
@require_POST
def resume(request: AuthedRequest, number: str) -> HttpResponse:
    return _act(
        request,
        number,
        "resume",
        lambda order: services.resume(order=order, by=request.user),
        _("已恢复计时，期限已顺延。"),
    )


@login_required
@require_POST
def upload(request: AuthedRequest, number: str) -> HttpResponse:
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, number, form)
    upload_file = form.cleaned_data["file"]
    label = form.cleaned_data["label"]
    return _act(
        request,
        number,
        "upload",
        lambda order: attach(order=order, by=request.user, upload=upload_file, label=label),
        _("附件已上传。"),
    )


@login_required
@require_POST
def rate(request: AuthedRequest, number: str) -> HttpResponse:
    """A rating recorded at the counter on the resident's behalf (tablet or spoken)."""
    form = RateForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form)
    data = form.cleaned_data
    return _act(
        request,
        number,
        "rate",
        lambda order: services.rate(
            order=order, by=request.user, level=data["level"], comment=data["comment"]
        ),
        _("评价已记录。"),
    )
