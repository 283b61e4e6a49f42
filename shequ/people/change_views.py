"""Editing a person and the street's review of the edits (变更审核): the edit page (one form per
field group), the queue of requests, one request with its decision, and the street's policy.

Reads go through `restrict`: a request outside the user's places answers 404 like a missing
one; a role that may not act at all gets 403. ID and phone numbers are shown masked everywhere
here, the edit forms included (a number is replaced only when a new one is typed). Every POST
carries an idempotency key, and the services refuse a second decision anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.scoping import CHANGE, VIEW, get_scoped_or_404, may_act, restrict
from shequ.core.actions import run_action
from shequ.core.errors import ConflictError
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_id_number, mask_name, mask_phone
from shequ.core.pagination import keyset_page
from shequ.places.models import Place

from . import changes
from .choices import DEFAULT_APPROVAL, FIELD_GROUPS, ChangeStatus, FieldGroup
from .forms import CHANGE_FORMS, ChangeForm, DecisionForm, IdentityForm, PolicyForm, QueueFilterForm
from .models import ChangeRequest, Person
from .services import EDITABLE_FIELDS

# ------------------------------------------------------------------------------ helpers


def _label(name: str) -> str:
    return str(changes.person_field(name).verbose_name)


def _place_names(codes: list[str]) -> dict[str, str]:
    wanted = {code for code in codes if code}
    return dict(Place.objects.filter(code__in=wanted).values_list("code", "name")) if wanted else {}


def _unmasked(person: Person, text: str) -> str:
    """An error message with the person's stored numbers masked (a message may quote a value)."""
    for value, masked in ((person.id_number, mask_id_number), (person.phone, mask_phone)):
        if value:
            text = text.replace(value, masked(value))
    return text


# ------------------------------------------------------------------------------ edit


@dataclass
class GroupForm:
    group: str
    label: str
    form: ChangeForm
    reviewed: bool  # a submission waits for the street
    pending: ChangeRequest | None
    current: list[tuple[str, str]] = field(default_factory=list)


def _form(group: str, person: Person, data: Any = None) -> ChangeForm:
    cls = CHANGE_FORMS[group]
    initial: dict[str, Any] = {
        name: getattr(person, name) for name in FIELD_GROUPS[group] if name not in changes.MASKED
    }
    initial["version"] = person.version
    kwargs: dict[str, Any] = {"data": data, "initial": initial}
    if cls is IdentityForm:
        kwargs["current_id_type"] = person.id_type
    form = cls(**kwargs)
    for name, mask in changes.MASKED.items():
        if name in form.fields:
            current = mask(getattr(person, name))
            form.fields[name].widget.attrs["placeholder"] = current or _("（无）")
    return form


def _group_forms(request: AuthedRequest, person: Person, bound: ChangeForm | None = None) -> list[GroupForm]:
    pending = {
        c.field_group: c
        for c in ChangeRequest.objects.filter(person=person, status=ChangeStatus.PENDING).select_related(
            "requested_by"
        )
    }
    policy = changes.policy_for(changes.street_of(person.place_code))
    approver = changes.may_approve(request.user, person.place_code)
    rows = []
    for group, label in FieldGroup.choices:
        form = bound if bound is not None and bound.group == group else _form(group, person)
        current = [(_label(name), changes.shown(name, getattr(person, name))) for name in FIELD_GROUPS[group]]
        rows.append(
            GroupForm(
                group=group,
                label=str(label),
                form=form,
                reviewed=not approver and policy[group],
                pending=pending.get(group),
                current=current,
            )
        )
    return rows


def _errors_into(form: ChangeForm, person: Person, exc: ValidationError) -> None:
    """Service errors onto the form: on their field when the form has it, else at the top with
    the field's name (the whole person is checked, so a field of another group can be named)."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, _unmasked(person, message))
        return
    for name, errors in exc.message_dict.items():
        for message in errors:
            text = _unmasked(person, message)
            if name in form.fields and name != NON_FIELD_ERRORS:
                form.add_error(name, text)
            elif name in EDITABLE_FIELDS:
                form.add_error(None, f"{_label(name)}：{text}")
            else:
                form.add_error(None, text)


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def edit(request: AuthedRequest, person_id: int) -> HttpResponse:
    """修改人员信息: one form per field group; each says whether the street reviews it."""
    if not may_act(request.user, Person, CHANGE):
        raise PermissionDenied
    person = get_scoped_or_404(Person.objects.all(), request.user, CHANGE, pk=person_id)
    bound: ChangeForm | None = None
    status = 200
    if request.method == "POST":
        group = request.POST.get("group", "")
        if group not in CHANGE_FORMS:
            raise Http404
        bound = _form(group, person, request.POST)
        if bound.is_valid():
            form = bound
            try:
                outcome = run_once(
                    key=key_from(request),
                    user_id=request.user.pk,
                    scope=f"people.edit.{person.pk}.{group}",
                    action=lambda: changes.request_change(
                        by=request.user,
                        person=person,
                        group=group,
                        values=form.values(),
                        reason=form.cleaned_data["reason"],
                        expected_version=form.cleaned_data["version"],
                    ),
                    encode=lambda change: change.pk,
                    decode=lambda pk: ChangeRequest.objects.get(pk=pk),
                )
            except ConflictError as exc:
                person.refresh_from_db()
                if getattr(exc, "code", None) == "stale":
                    # Keep what was typed, against the current version: the values now stored
                    # are shown next to the form, so a second submission is a deliberate one.
                    data = request.POST.copy()
                    data[f"{group}-version"] = str(person.version)
                    bound = _form(group, person, data)
                    bound.is_valid()
                _errors_into(bound, person, exc)
                status = 409
            except ValidationError as exc:
                _errors_into(bound, person, exc)
                status = 400
            else:
                change = outcome.value
                if change.status == ChangeStatus.PENDING:
                    messages.success(request, _("已提交街道审核，审核通过后生效。"))
                else:
                    messages.success(request, _("已保存，修改已生效。"))
                return redirect("people:person", person_id=person.pk)
        else:
            status = 400
    return render(
        request,
        "people/person_edit.html",
        {
            "person": person,
            "groups": _group_forms(request, person, bound),
            "masked_id": mask_id_number(person.id_number),
            "masked_phone": mask_phone(person.phone),
        },
        status=status,
    )


# ------------------------------------------------------------------------------ queue


@dataclass
class QueueRow:
    change: ChangeRequest
    masked_name: str
    committee: str


@login_required
@require_GET
def queue(request: AuthedRequest) -> HttpResponse:
    """变更申请: for the street's approvers the requests waiting in their places, oldest first;
    for committee workers the requests they made, newest first."""
    approver = may_act(request.user, ChangeRequest, CHANGE)
    if not approver and not may_act(request.user, Person, CHANGE):
        raise PermissionDenied
    mine = not approver or request.GET.get("view") == "mine"
    params = request.GET.copy()
    if not mine and "status" not in params:
        params["status"] = ChangeStatus.PENDING
    form = QueueFilterForm(params)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    if mine:
        rows_qs = restrict(ChangeRequest.objects.all(), request.user, VIEW).filter(requested_by=request.user)
    else:
        rows_qs = restrict(ChangeRequest.objects.all(), request.user, CHANGE)
    if status:
        rows_qs = rows_qs.filter(status=status)
    page = keyset_page(
        rows_qs.select_related("person", "requested_by", "decided_by"),
        request,
        order="-id" if mine else "id",
    )
    names = _place_names([c.place_code for c in page.items])
    rows = [QueueRow(c, mask_name(c.person.name), names.get(c.place_code, "")) for c in page.items]
    return render(
        request,
        "people/changes.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "mine": mine,
            "approver": approver,
            "status": status,
            "now": timezone.now(),
        },
    )


# ------------------------------------------------------------------------------ detail


@dataclass
class FieldRow:
    label: str
    before: str
    after: str
    now: str  # the value stored now, when it is no longer `before`


def _field_rows(change: ChangeRequest) -> tuple[list[FieldRow], bool]:
    """Before → after of each field the request changes; for a pending one, whether the person's
    values of the group moved meanwhile (then it can only be sent back)."""
    person = change.person
    pending = change.status == ChangeStatus.PENDING
    moved = pending and changes.group_values(person, change.field_group) != change.before
    rows = []
    for name in FIELD_GROUPS[change.field_group]:
        if name not in change.after:
            continue
        now_value = changes.group_values(person, change.field_group)[name]
        rows.append(
            FieldRow(
                label=_label(name),
                before=changes.shown(name, change.before.get(name)),
                after=changes.shown(name, change.after[name]),
                now=changes.shown(name, now_value) if moved and now_value != change.before.get(name) else "",
            )
        )
    return rows, moved


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def detail(request: AuthedRequest, change_id: int) -> HttpResponse:
    """One request: what it changes (masked), its reason and state; the street approves or sends
    it back with a note, the requester may withdraw it while it waits."""
    if not may_act(request.user, ChangeRequest, VIEW):
        raise PermissionDenied
    change = get_scoped_or_404(
        ChangeRequest.objects.select_related("person", "requested_by", "decided_by"),
        request.user,
        VIEW,
        pk=change_id,
    )
    if request.method == "POST":
        return _decide(request, change)
    rows, moved = _field_rows(change)
    pending = change.status == ChangeStatus.PENDING
    names = _place_names([change.place_code])
    return render(
        request,
        "people/change.html",
        {
            "change": change,
            "person": change.person,
            "rows": rows,
            "moved": moved,
            "committee": names.get(change.place_code, ""),
            "may_decide": pending
            and may_act(request.user, ChangeRequest, CHANGE)
            and changes.may_approve(request.user, change.person.place_code),
            "may_withdraw": pending and change.requested_by_id == request.user.pk,
            "may_open_person": restrict(
                Person.objects.filter(pk=change.person_id), request.user, VIEW
            ).exists(),
            "decision_form": DecisionForm(),
        },
    )


def _decide(request: AuthedRequest, change: ChangeRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    back = HttpResponseRedirect(reverse("people:change", args=[change.pk]))
    if action == "withdraw":
        return run_action(
            request,
            scope=f"people.change.{change.pk}.withdraw",
            action=lambda: changes.withdraw(by=request.user, change=change),
            success=_("已撤回申请。"),
            back=back,
        )
    if action not in ("approve", "reject"):
        raise Http404
    if not may_act(request.user, ChangeRequest, CHANGE):
        raise PermissionDenied
    get_scoped_or_404(ChangeRequest.objects.all(), request.user, CHANGE, pk=change.pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return back
    note = form.cleaned_data["note"]
    if action == "approve":
        return run_action(
            request,
            scope=f"people.change.{change.pk}.approve",
            action=lambda: changes.approve(by=request.user, change=change, note=note),
            success=_("已审核通过，修改已生效。"),
            back=back,
        )
    return run_action(
        request,
        scope=f"people.change.{change.pk}.reject",
        action=lambda: changes.reject(by=request.user, change=change, note=note),
        success=_("已退回申请。"),
        back=back,
    )


# ------------------------------------------------------------------------------ policy


@login_required
@require_http_methods(["GET", "POST"])
def policy(request: AuthedRequest) -> HttpResponse:
    """变更审核设置: per field group, whether a committee worker's edit waits for the street."""
    if not may_act(request.user, ChangeRequest, CHANGE):
        raise PermissionDenied
    streets = changes.manageable_streets(request.user)
    if not streets:
        raise PermissionDenied
    wanted = (request.POST if request.method == "POST" else request.GET).get("street") or streets[0].code
    street = next((s for s in streets if s.code == wanted), None)
    if street is None:
        raise Http404
    current = changes.policy_for(street.code)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            chosen = {group: bool(form.cleaned_data[group]) for group in FieldGroup.values}
            try:
                run_once(
                    key=key_from(request),
                    user_id=request.user.pk,
                    scope=f"people.approval_policy.{street.code}",
                    action=lambda: [
                        changes.set_policy(
                            by=request.user, street_code=street.code, group=group, requires_approval=value
                        )
                        for group, value in chosen.items()
                    ],
                    encode=lambda _value: True,
                    decode=lambda _stored: None,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("已保存%(street)s的变更审核设置。") % {"street": street.name})
                return redirect(f"{reverse('people:approval_policy')}?street={street.code}")
    rows = [
        (group, str(label), current[group], DEFAULT_APPROVAL[group]) for group, label in FieldGroup.choices
    ]
    return render(
        request,
        "people/approval_policy.html",
        {"streets": streets, "street": street, "rows": rows},
    )
