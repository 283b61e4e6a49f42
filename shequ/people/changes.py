"""Editing a person, with the street's approval where it asks for it (变更审核).

An edit touches one group of fields (`choices.FIELD_GROUPS`). A committee worker's edit of a
group the street reviews (its `ApprovalPolicy`, else `DEFAULT_APPROVAL`) waits as a PENDING
`ChangeRequest` until a centre manager or leader of the street approves or rejects it; every
other edit applies at once and is kept as an APPLIED request, so the person's edits read as one
list.

Race safety: the person row is locked before the change row everywhere (no deadlock between a
new request and a decision), the version the editor saw is checked under that lock (optimistic
lock of the edit page), and a decision moves the status with a conditional update, so of two
approvers clicking at once one wins and the other is told who did.

Personal data: while a request is pending its `before`/`after` hold the ID and phone numbers in
clear (the values to compare and to apply). Once decided they are kept masked only: the person's
own history keeps the values, the request needs no second copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.accounts.scoping import CHANGE, can, jurisdiction
from shequ.audit.models import ChangeAction, ChangeLog
from shequ.audit.services import record_change
from shequ.core.errors import ConflictError
from shequ.core.masking import mask_id_number, mask_name, mask_phone
from shequ.notifications.templates import register_template
from shequ.places.models import Place

from . import services
from .choices import DEFAULT_APPROVAL, FIELD_GROUPS, ChangeStatus, FieldGroup
from .models import ApprovalPolicy, ChangeRequest, Person
from .scopes import APPROVERS

REASON_MAX = 200
NOTE_MAX = 200
STREET_LENGTH = 9

# Values that are personal data, and how they are shown (and kept once a request is decided).
MASKED: dict[str, Callable[[str | None], str]] = {"id_number": mask_id_number, "phone": mask_phone}

register_template(
    "people.change_decided",
    gettext_lazy("信息变更申请{{ result }}"),
    gettext_lazy(
        "您提交的 {{ person }} 的“{{ group }}”变更申请{{ result }}"
        "{% if decided_by %}（{{ decided_by }}）{% endif %}{% if note %}：{{ note }}{% endif %}。"
    ),
)


# ------------------------------------------------------------------------------ who decides


def street_of(place_code: str) -> str:
    """The street (9 digits) a committee or grid code lies in; "" for an unknown place."""
    return place_code[:STREET_LENGTH] if len(place_code or "") >= STREET_LENGTH else ""


def may_approve(user: Any, place_code: str) -> bool:
    """Whether `user` decides changes of people living at `place_code`: a centre manager or
    leader whose jurisdiction covers it, or a superuser."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(place_code) and any(place_code.startswith(p) for p in jurisdiction(user, APPROVERS))


def policy_for(street_code: str) -> dict[str, bool]:
    """Group → whether a committee worker's edit waits for the street, for one street."""
    rules = dict(
        ApprovalPolicy.objects.filter(street_code=street_code).values_list("field_group", "requires_approval")
    )
    return {group: rules.get(group, DEFAULT_APPROVAL[group]) for group in FieldGroup.values}


def requires_approval(user: Any, person: Person, group: str) -> bool:
    """Whether `user`'s edit of `group` of `person` must wait for the street: not for the
    street's own staff (centre manager, leader) nor a superuser; for anyone else (a committee
    worker) as the street's policy says."""
    if may_approve(user, person.place_code):
        return False
    return policy_for(street_of(person.place_code))[group]


# ------------------------------------------------------------------------------ values


def group_values(person: Person, group: str) -> dict[str, Any]:
    """The person's current values of one group, as stored in a request (JSON: dates as text)."""
    return {name: _to_json(getattr(person, name)) for name in FIELD_GROUPS[group]}


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def person_field(name: str) -> models.Field[Any, Any]:
    field = Person._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"Person.{name} is not a column")
    return field


def _from_json(name: str, value: Any) -> Any:
    return person_field(name).to_python(value)


def shown(name: str, value: Any) -> str:
    """A stored value as a page or a log may show it: ID and phone numbers masked, choices by
    their label."""
    if value in (None, ""):
        return ""
    if name in MASKED:
        return MASKED[name](str(value))
    field = person_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    return {name: MASKED[name](value) if name in MASKED else value for name, value in values.items()}


def _field_label(name: str) -> str:
    try:
        return str(person_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _group_label(group: str) -> str:
    return str(FieldGroup(group).label)


def _clean_reason(text: str | None, field: str, missing: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [missing]})
    if len(text) > limit:
        raise ValidationError({field: [_("内容过长（最多 %(limit)d 个字）。") % {"limit": limit}]})
    return text


def _last_editor(person: Person) -> str:
    """Who changed the person last, as the change log says (for a conflict message)."""
    row = (
        ChangeLog.objects.filter(object_type="people.person", object_id=str(person.pk))
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        return _("其他人")
    when = timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M")
    return _("%(name)s（%(when)s）") % {"name": row.actor_name or _("系统"), "when": when}


# ------------------------------------------------------------------------------ requesting


@transaction.atomic
def request_change(
    *,
    by: Any,
    person: Person,
    group: str,
    values: dict[str, Any],
    reason: str,
    expected_version: int,
) -> ChangeRequest:
    """Edit one group of a person's fields. `values` holds the new values of that group (fields
    left out keep theirs). Applied at once (status APPLIED) or stored for the street (PENDING),
    as `requires_approval` says. Refused when the person changed since the editor loaded them
    (`expected_version`), when nothing changes, or when the result would be invalid."""
    if group not in FIELD_GROUPS:
        raise ValidationError({"field_group": [_("字段组无效。")]})
    outside = set(values) - set(FIELD_GROUPS[group])
    if outside:
        raise ValidationError(
            {
                "field_group": [
                    _("字段 %(names)s 不属于“%(group)s”。")
                    % {
                        "names": "、".join(_field_label(name) for name in sorted(outside)),
                        "group": _group_label(group),
                    }
                ]
            }
        )
    reason = _clean_reason(reason, "reason", _("请填写变更原因。"), REASON_MAX)
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if not can(by, CHANGE, locked):
        raise PermissionDenied(_("您无权修改此人员的信息。"))
    if locked.version != expected_version:
        raise ConflictError(
            _("%(name)s 的信息已被 %(who)s 修改，请查看最新信息后重新填写。")
            % {"name": locked.name, "who": _last_editor(locked)},
            code="stale",
        )
    changes = services.clean_person_changes(locked, values)
    changes = {name: value for name, value in changes.items() if name in FIELD_GROUPS[group]}
    if not changes:
        raise ValidationError({NON_FIELD_ERRORS: [_("没有修改任何内容。")]})
    before = group_values(locked, group)
    after = {name: _to_json(value) for name, value in changes.items()}
    waits = requires_approval(by, locked, group)
    if waits:
        pending = _pending(locked, group)
        if pending is not None:
            raise _already_pending(pending)
    else:
        locked = services.update_person(by=by, person=locked, values=changes)
    try:
        with transaction.atomic():
            change = ChangeRequest.objects.create(
                person=locked,
                field_group=group,
                before=before if waits else _masked(before),
                after=after if waits else _masked(after),
                reason=reason,
                status=ChangeStatus.PENDING if waits else ChangeStatus.APPLIED,
                place_code=locked.place_code,
                requested_by=by,
                decided_at=None if waits else timezone.now(),
            )
    except IntegrityError:  # another pending request for this group, a moment ago
        raise _already_pending(_pending(locked, group)) from None
    _log(by, change, ChangeAction.CREATE, after={"fields": sorted(after), "reason": reason})
    return change


def _pending(person: Person, group: str) -> ChangeRequest | None:
    return (
        ChangeRequest.objects.filter(person=person, field_group=group, status=ChangeStatus.PENDING)
        .select_related("requested_by")
        .first()
    )


def _already_pending(pending: ChangeRequest | None) -> ValidationError:
    if pending is None:
        return ConflictError(_("该字段组刚刚已有一项变更申请提交，请刷新后查看。"))
    when = timezone.localtime(pending.created_at).strftime("%Y-%m-%d %H:%M")
    return ValidationError(
        {
            "field_group": [
                _(
                    "“%(group)s”已有一项待街道审核的变更申请（%(who)s 于 %(when)s 提交），"
                    "请等审核完成或由申请人撤回后再修改。"
                )
                % {"group": _group_label(pending.field_group), "who": pending.requested_by, "when": when}
            ]
        }
    )


def _log(by: Any, change: ChangeRequest, action: str, **snapshot: Any) -> None:
    """The change log keeps the request's status and the names of the fields, never the values."""
    base = {"field_group": change.field_group, "status": change.status}
    record_change(
        actor=by,
        action=action,
        obj=change,
        place_code=change.place_code,
        before=snapshot.get("before"),
        after={**base, **snapshot.get("after", {})},
        only_changes=False,
    )


# ------------------------------------------------------------------------------ deciding


def _locked_pending(change: ChangeRequest) -> tuple[Person, ChangeRequest]:
    """Lock the person, then the request (the order `request_change` takes them in), and make
    sure the request is still waiting."""
    person = Person.objects.select_for_update().get(pk=change.person_id)
    locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if locked.status != ChangeStatus.PENDING:
        raise _already_decided(locked)
    return person, locked


def _already_decided(change: ChangeRequest) -> ConflictError:
    when = timezone.localtime(change.decided_at).strftime("%Y-%m-%d %H:%M") if change.decided_at else ""
    if change.status == ChangeStatus.WITHDRAWN:
        return ConflictError(_("该申请已由申请人于 %(when)s 撤回。") % {"when": when}, code="decided")
    return ConflictError(
        _("该申请已由 %(who)s 于 %(when)s 处理（%(status)s），无需重复操作。")
        % {"who": change.decided_by or _("系统"), "when": when, "status": change.get_status_display()},
        code="decided",
    )


def _decide(by: Any, change: ChangeRequest, status: str, note: str) -> ChangeRequest:
    """Move a locked pending request to `status` (conditionally: a lost race changes nothing),
    keep its values masked from now on, log it and tell the requester."""
    now = timezone.now()
    moved = ChangeRequest.objects.filter(pk=change.pk, status=ChangeStatus.PENDING).update(
        status=status,
        decided_by=by if status != ChangeStatus.WITHDRAWN else None,
        decided_at=now,
        decision_note=note,
        before=_masked(change.before),
        after=_masked(change.after),
    )
    if moved != 1:
        change.refresh_from_db()
        raise _already_decided(change)
    change.refresh_from_db()
    _log(by, change, ChangeAction.UPDATE, before={"status": ChangeStatus.PENDING}, after={"note": note})
    if status != ChangeStatus.WITHDRAWN and change.requested_by_id != getattr(by, "pk", None):
        _notify(by, change)
    return change


def _check_approver(by: Any, person: Person) -> None:
    if not may_approve(by, person.place_code):
        raise PermissionDenied(_("只有该人员所在街道的中心主任或领导可以审核此申请。"))


@transaction.atomic
def approve(*, by: Any, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """Apply a pending request. Refused when the person's values of the group changed since it
    was made (the approver rejects it and the requester starts again from the current values),
    and when the result is no longer valid (say, the new ID number was registered meanwhile)."""
    person, change = _locked_pending(change)
    _check_approver(by, person)
    note = (note or "").strip()[:NOTE_MAX]
    group = change.field_group
    if group_values(person, group) != change.before:
        raise ConflictError(
            _(
                "%(name)s 的“%(group)s”在申请提交后已被 %(who)s 修改，此申请不能通过，请退回后由申请人重新提交。"
            )
            % {"name": person.name, "group": _group_label(group), "who": _last_editor(person)},
            code="changed",
        )
    values = {name: _from_json(name, value) for name, value in change.after.items()}
    services.update_person(by=by, person=person, values=values)
    return _decide(by, change, ChangeStatus.APPROVED, note)


@transaction.atomic
def reject(*, by: Any, change: ChangeRequest, note: str) -> ChangeRequest:
    """Send a pending request back, with the reason the requester will read."""
    note = _clean_reason(note, "decision_note", _("请填写退回原因。"), NOTE_MAX)
    person, change = _locked_pending(change)
    _check_approver(by, person)
    return _decide(by, change, ChangeStatus.REJECTED, note)


@transaction.atomic
def withdraw(*, by: Any, change: ChangeRequest) -> ChangeRequest:
    """The requester takes back a request still waiting for the street."""
    _person, change = _locked_pending(change)
    if change.requested_by_id != getattr(by, "pk", None):
        raise PermissionDenied(_("只有申请人本人可以撤回申请。"))
    return _decide(by, change, ChangeStatus.WITHDRAWN, "")


def _notify(by: Any, change: ChangeRequest) -> None:
    from shequ.notifications.services import notify

    notify(
        template="people.change_decided",
        context={
            "person": mask_name(change.person.name),
            "group": _group_label(change.field_group),
            "result": change.get_status_display(),
            "decided_by": str(by) if by is not None else "",
            "note": change.decision_note,
        },
        user=change.requested_by,
        channels=("inapp",),
        dedupe_key=f"people.change_decided:{change.pk}",
        place_code=change.place_code,
        link=reverse("people:change", args=[change.pk]),
    )


# ------------------------------------------------------------------------------ policy


def manageable_streets(user: Any) -> list[Place]:
    """The streets whose approval policy `user` sets: those their centre-manager or leader
    jurisdiction covers (every street for a superuser)."""
    streets = Place.objects.filter(kind="street").order_by("code")
    if getattr(user, "is_superuser", False):
        return list(streets)
    prefixes = jurisdiction(user, APPROVERS)
    if not prefixes:
        return []
    within = Q()
    for prefix in prefixes:
        within |= Q(code__startswith=prefix)
    return list(streets.filter(within))


@transaction.atomic
def set_policy(*, by: Any, street_code: str, group: str, requires_approval: bool) -> ApprovalPolicy:
    """Whether the street reviews committee workers' edits of `group` (its centre managers and
    leaders decide; logged)."""
    if group not in FIELD_GROUPS:
        raise ValidationError({"field_group": [_("字段组无效。")]})
    if not Place.objects.filter(code=street_code, kind="street").exists():
        raise ValidationError({"street_code": [_("街道代码“%(code)s”不存在。") % {"code": street_code}]})
    if not may_approve(by, street_code):
        raise PermissionDenied(_("只有本街道的中心主任或领导可以设置变更审核。"))
    policy = (
        ApprovalPolicy.objects.select_for_update().filter(street_code=street_code, field_group=group).first()
    )
    if policy is None:
        try:
            with transaction.atomic():
                policy = ApprovalPolicy.objects.create(
                    street_code=street_code,
                    field_group=group,
                    requires_approval=requires_approval,
                    updated_by=by,
                )
        except IntegrityError:  # set a moment ago by someone else: theirs is updated below
            policy = ApprovalPolicy.objects.select_for_update().get(
                street_code=street_code, field_group=group
            )
        else:
            before = DEFAULT_APPROVAL[group]
            if before != requires_approval:
                _log_policy(by, policy, before)
            return policy
    before = policy.requires_approval
    if before != requires_approval:
        policy.requires_approval, policy.updated_by = requires_approval, by
        policy.save()
        _log_policy(by, policy, before)
    return policy


def _log_policy(by: Any, policy: ApprovalPolicy, before: bool) -> None:
    record_change(
        actor=by,
        action=ChangeAction.UPDATE,
        obj=policy,
        place_code=policy.street_code,
        before={"field_group": policy.field_group, "requires_approval": before},
        after={"field_group": policy.field_group, "requires_approval": policy.requires_approval},
        only_changes=False,
    )
