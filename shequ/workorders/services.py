"""Every state change of a work order (DESIGN §4.1-4.4).

Each service runs in one transaction: it locks the order's row, checks that the requested change
is allowed from the state it finds (a second clerk clicking at the same moment waits for the first
and then gets a clear "already handled by …"), writes the new state, appends the timeline event
and queues notifications in the outbox, which the worker delivers only after commit.

`by` is a user, or a string naming a system actor (the worker, a command).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import Department, User
from shequ.audit.services import actor_identity
from shequ.core.errors import ConflictError as BaseConflictError
from shequ.core.sequences import next_value
from shequ.places.codes import subtree_prefix

from . import deadlines
from .choices import (
    BAD_RATINGS,
    CANCELLED,
    CLOSED,
    TERMINAL_STEPS,
    Channel,
    EventKind,
    Priority,
    RatingLevel,
    SlaState,
    StatusGroup,
)
from .models import Rating, WorkOrder, WorkOrderEvent
from .notify import notify_assignees, notify_subject
from .permissions import may_handle, may_perform
from .process import Process, Step, get_process


class ConflictError(BaseConflictError):
    """The order changed under the user: another person acted first."""


class TransitionNotAllowed(ValidationError):
    """The action is not possible from the order's current step."""


# ---------------------------------------------------------------------------------- numbering


def allocate_number(prefix: str, day: dt.date) -> str:
    """The next public number of `prefix` on `day`, e.g. SW20261123-0001 (see core.sequences)."""
    return f"{prefix}{day:%Y%m%d}-{next_value(f'number:{prefix}', day):04d}"


# ---------------------------------------------------------------------------------- internals


def _name(by: Any) -> tuple[int | None, str]:
    return actor_identity(by)


def record_order_event(
    order: WorkOrder,
    kind: str,
    by: Any,
    *,
    step_from: str = "",
    step_to: str = "",
    comment: str = "",
    **data: Any,
) -> WorkOrderEvent:
    actor_id, actor_name = _name(by)
    return WorkOrderEvent.objects.create(
        order=order,
        kind=kind,
        step_from=step_from,
        step_to=step_to,
        actor_id=actor_id,
        actor_name=actor_name,
        comment=comment,
        data=data,
    )


def _locked(order: WorkOrder) -> WorkOrder:
    """The order's row, locked until the transaction ends (SQLite serialises writers itself)."""
    return WorkOrder.objects.select_for_update().get(pk=order.pk)


def check_version(order: WorkOrder, expected_version: int | None) -> None:
    if expected_version is not None and order.version != expected_version:
        raise ConflictError(_last_change_message(order), code="conflict")


def _last_change_message(order: WorkOrder) -> str:
    last = order.events.order_by("-created_at", "-id").first()
    if last is None:
        return _("工单已被他人更新，请刷新后重试。")
    when = timezone.localtime(last.created_at).strftime("%H:%M")
    return _("该工单已由 %(name)s 于 %(when)s 处理（%(what)s），请刷新后查看。") % {
        "name": last.actor_name or _("系统"),
        "when": when,
        "what": last.get_kind_display(),
    }


def _enter_step(order: WorkOrder, step: Step, now: dt.datetime) -> None:
    """Point the order at `step` and start that step's clock."""
    order.step = step.name
    order.step_started_at = now
    if step.starts_clock and order.started_at is None:
        order.started_at = now
    clock = deadlines.start_step(step, order, now)
    order.due_at, order.warn_at, order.due_provisional = clock.due_at, clock.warn_at, clock.provisional
    order.step_budget = clock.budget
    order.anchor_at, order.anchor_remaining = now, None
    order.sla_state = SlaState.ON_TIME if clock.due_at else SlaState.NONE


def _close(order: WorkOrder, target: str, now: dt.datetime) -> None:
    order.step = target
    order.status = StatusGroup.CLOSED
    order.closed_at = now
    order.closed_on_time = None if target == CANCELLED else not order.ever_overdue
    order.due_at = order.warn_at = None
    order.sla_state = SlaState.NONE


def _save(order: WorkOrder, *, bump: bool = True) -> None:
    """Save; a person's action bumps the version (so a stale page is told), the worker's doesn't."""
    if bump:
        order.version += 1
    order.save()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _validate_assignee(order: WorkOrder, user: User | None, department: Department | None) -> None:
    """A department handles orders inside its own place's subtree; a user must be active."""
    if department is not None and not order.place_code.startswith(
        subtree_prefix(department.place.code, department.place.kind)
    ):
        raise ValidationError(
            {"assignee_department": [_("部门“%(name)s”不负责该区域。") % {"name": department.name}]}
        )
    if user is not None and not user.is_active:
        raise ValidationError({"assignee_user": [_("承办人账号已停用。")]})


# ---------------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Subject:
    """Who the order is about, as entered (the resident database links `person_id` later)."""

    name: str = ""
    phone: str = ""
    person_id: int | None = None


@transaction.atomic
def create_order(
    *,
    kind: str,
    by: Any,
    place_code: str,
    title: str,
    channel: str = Channel.COUNTER,
    priority: int = Priority.NORMAL,
    subject: Subject | None = None,
    assignee_user: User | None = None,
    assignee_department: Department | None = None,
    parent: WorkOrder | None = None,
    data: dict | None = None,
    comment: str = "",
    now: dt.datetime | None = None,
) -> WorkOrder:
    """Open an order of `kind` at its process's first step."""
    process = get_process(kind)
    now = now or timezone.now()
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("请填写标题。")]
    if channel not in Channel.values:
        errors["channel"] = [_("渠道“%(value)s”无效。") % {"value": channel}]
    if not place_code or not place_code.isdigit():
        errors["place_code"] = [_("请选择所属区划。")]
    if errors:
        raise ValidationError(errors)
    subject = subject or Subject()
    order = WorkOrder(
        number=allocate_number(process.prefix, timezone.localdate(now)),
        kind=kind,
        place_code=place_code,
        title=title[:200],
        channel=channel,
        priority=priority,
        subject_name=subject.name,
        subject_phone=subject.phone,
        subject_person_id=subject.person_id,
        assignee_user=assignee_user,
        assignee_department=assignee_department,
        parent=parent,
        data=data or {},
        created_by_id=_name(by)[0],
    )
    _validate_assignee(order, assignee_user, assignee_department)
    _enter_step(order, process.initial, now)
    order.save()
    record_order_event(order, EventKind.CREATED, by, step_to=order.step, comment=comment, channel=channel)
    if assignee_user or assignee_department:
        record_order_event(order, EventKind.ASSIGNED, by, **_assignee_data(order))
    notify_assignees(order, "workorder.assigned")
    return order


def _assignee_data(order: WorkOrder) -> dict[str, Any]:
    return {
        "user_id": order.assignee_user_id,
        "user": order.assignee_user.display_name if order.assignee_user else "",
        "department_id": order.assignee_department_id,
        "department": order.assignee_department.name if order.assignee_department else "",
    }


@transaction.atomic
def perform(
    *,
    order: WorkOrder,
    by: Any,
    action: str,
    comment: str = "",
    expected_version: int | None = None,
    assignee_user: User | None = None,
    assignee_department: Department | None = None,
    data: dict | None = None,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """Fire the transition `action` from the order's current step."""
    order = _locked(order)
    check_version(order, expected_version)
    process = get_process(order.kind)
    if order.status == StatusGroup.CLOSED:
        raise ConflictError(
            _("该工单已办结，不能再操作。") + " " + _last_change_message(order), code="closed"
        )
    transition = process.transition(order.step, action)
    if transition is None:
        raise TransitionNotAllowed(
            _("当前环节“%(step)s”不能执行“%(action)s”。")
            % {"step": process.step_label(order.step), "action": action},
            code="not_allowed",
        )
    if order.status == StatusGroup.PAUSED:
        raise TransitionNotAllowed(
            _("工单正在暂停计时（%(reason)s），请先恢复计时。") % {"reason": _pause_label(process, order)}
        )
    _require(
        may_perform(by, order, transition),
        _("您没有在此环节执行“%(label)s”的权限。") % {"label": transition.label},
    )
    comment = (comment or "").strip()
    if transition.requires_comment and not comment:
        raise ValidationError({"comment": [_("“%(label)s”需要填写理由。") % {"label": transition.label}]})
    now = now or timezone.now()
    step_from = order.step
    if order.due_at is not None and now > order.due_at:
        # Leaving a step after its deadline counts as overdue even if the sweep has not run yet.
        order.ever_overdue = True
    if assignee_user is not None or assignee_department is not None:
        _validate_assignee(order, assignee_user, assignee_department)
        order.assignee_user, order.assignee_department = assignee_user, assignee_department
    if transition.clears_assignee:
        order.assignee_user = order.assignee_department = None
    if transition.is_rework:
        order.rework_count += 1
    if transition.is_return:
        order.return_count += 1
    if data:
        order.data = {**order.data, **data}
    if transition.target in TERMINAL_STEPS:
        _close(order, transition.target, now)
    else:
        _enter_step(order, process.step(transition.target), now)
    _save(order)
    record_order_event(
        order,
        transition.event,
        by,
        step_from=step_from,
        step_to=order.step,
        comment=comment,
        action=action,
        **(data or {}),
    )
    if process.after_transition is not None:
        process.after_transition(order, transition, by)
    if order.is_closed:
        notify_subject(order, "workorder.closed")
    else:
        notify_assignees(order, "workorder.assigned")
    return order


def _pause_label(process: Process, order: WorkOrder) -> str:
    return str(process.pause_reasons.get(order.pause_reason, order.pause_reason))


@transaction.atomic
def assign(
    *,
    order: WorkOrder,
    by: Any,
    user: User | None = None,
    department: Department | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Hand the order to another person or department (转办) without changing its step."""
    order = _locked(order)
    check_version(order, expected_version)
    if order.is_closed:
        raise ConflictError(_("该工单已办结，不能转办。"), code="closed")
    process = get_process(order.kind)
    _require(may_handle(by, order, process.step(order.step).actors), _("您没有转办此工单的权限。"))
    if user is None and department is None:
        raise ValidationError({"assignee_user": [_("请选择承办人或承办部门。")]})
    if user == order.assignee_user and department == order.assignee_department:
        return order  # the same hand-over twice (double click) changes nothing
    _validate_assignee(order, user, department)
    before = _assignee_data(order)
    order.assignee_user, order.assignee_department = user, department
    _save(order)
    kind = EventKind.TRANSFERRED if (before["user_id"] or before["department_id"]) else EventKind.ASSIGNED
    record_order_event(order, kind, by, comment=comment, before=before, **_assignee_data(order))
    notify_assignees(order, "workorder.assigned")
    return order


@transaction.atomic
def add_comment(*, order: WorkOrder, by: Any, text: str) -> WorkOrderEvent:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"comment": [_("请填写备注内容。")]})
    order = _locked(order)
    _require(may_handle(by, order, get_process(order.kind).all_roles()), _("您没有为此工单添加备注的权限。"))
    return record_order_event(order, EventKind.COMMENTED, by, comment=text[:2000])


@transaction.atomic
def pause(
    *,
    order: WorkOrder,
    by: Any,
    reason: str,
    comment: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """Stop the clock for a reason the process allows (e.g. waiting for the applicant's supplement)."""
    order = _locked(order)
    check_version(order, expected_version)
    process = get_process(order.kind)
    if reason not in process.pause_reasons:
        raise ValidationError({"reason": [_("此类工单不能因“%(reason)s”暂停计时。") % {"reason": reason}]})
    if order.status == StatusGroup.PAUSED:
        if order.pause_reason == reason:
            return order  # already paused for this reason: a retry, not an error
        raise ConflictError(_("工单已在暂停计时中。"), code="paused")
    if order.is_closed:
        raise ConflictError(_("该工单已办结。"), code="closed")
    _require(may_handle(by, order, process.step(order.step).actors), _("您没有暂停此工单计时的权限。"))
    now = now or timezone.now()
    order.status = StatusGroup.PAUSED
    order.pause_reason = reason
    order.paused_at = now
    order.anchor_remaining = deadlines.remaining_at(order.due_at, now) if order.due_at else None
    _save(order)
    record_order_event(
        order,
        EventKind.PAUSED,
        by,
        comment=comment,
        reason=reason,
        remaining=_seconds(order.anchor_remaining),
    )
    if reason == "supplement":
        notify_subject(
            order, "workorder.supplement_requested", reason=comment or str(process.pause_reasons[reason])
        )
    return order


@transaction.atomic
def resume(
    *,
    order: WorkOrder,
    by: Any,
    comment: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """Restart the clock: the deadline moves by the working time spent paused."""
    order = _locked(order)
    check_version(order, expected_version)
    if order.status != StatusGroup.PAUSED:
        return order  # resuming twice is a no-op
    process = get_process(order.kind)
    _require(may_handle(by, order, process.step(order.step).actors), _("您没有恢复此工单计时的权限。"))
    now = now or timezone.now()
    assert order.paused_at is not None
    order.paused_total += now - order.paused_at
    order.status = StatusGroup.OPEN
    old_due = order.due_at
    if order.anchor_remaining is not None and order.step_budget is not None:
        clock = deadlines.resume_step(
            process.step(order.step), now, order.anchor_remaining, order.step_budget
        )
        order.due_at, order.warn_at, order.due_provisional = clock.due_at, clock.warn_at, clock.provisional
        order.sla_state = SlaState.OVERDUE if order.sla_state == SlaState.OVERDUE else SlaState.ON_TIME
    order.anchor_at = now
    paused_for = now - order.paused_at
    order.paused_at, order.pause_reason = None, ""
    _save(order)
    record_order_event(
        order,
        EventKind.RESUMED,
        by,
        comment=comment,
        paused_seconds=int(paused_for.total_seconds()),
        old_due=old_due.isoformat() if old_due else None,
        new_due=order.due_at.isoformat() if order.due_at else None,
    )
    return order


def _seconds(value: dt.timedelta | None) -> int | None:
    return int(value.total_seconds()) if value is not None else None


@transaction.atomic
def cancel(*, order: WorkOrder, by: Any, reason: str, expected_version: int | None = None) -> WorkOrder:
    order = _locked(order)
    check_version(order, expected_version)
    if order.is_closed:
        return order
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写撤销原因。")]})
    _require(
        may_handle(by, order, get_process(order.kind).step(order.step).actors), _("您没有撤销此工单的权限。")
    )
    step_from = order.step
    _close(order, CANCELLED, timezone.now())
    _save(order)
    record_order_event(order, EventKind.CANCELLED, by, step_from=step_from, step_to=CANCELLED, comment=reason)
    return order


@transaction.atomic
def reopen(
    *, order: WorkOrder, by: Any, reason: str, step: str | None = None, now: dt.datetime | None = None
) -> WorkOrder:
    """Open a closed order again at `step` (default: the process's last step before closing)."""
    order = _locked(order)
    process = get_process(order.kind)
    if not order.is_closed:
        return order
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写重新办理的原因。")]})
    target = step or next(
        (t.source for t in reversed(process.transitions) if t.target == CLOSED), process.initial.name
    )
    _require(may_handle(by, order, process.step(target).actors), _("您没有重新办理此工单的权限。"))
    now = now or timezone.now()
    order.status = StatusGroup.OPEN
    order.closed_at = None
    order.closed_on_time = None
    _enter_step(order, process.step(target), now)
    _save(order)
    record_order_event(order, EventKind.REOPENED, by, step_from=CLOSED, step_to=target, comment=reason)
    notify_assignees(order, "workorder.assigned")
    return order


@transaction.atomic
def rate(
    *, order: WorkOrder, level: int, by: Any = None, comment: str = "", channel: str = Channel.COUNTER
) -> Rating:
    """Record the 好差评 rating of a closed order. A bad rating opens a follow-up (整改) order."""
    if level not in RatingLevel.values:
        raise ValidationError({"level": [_("评价等级应为 1 到 5。")]})
    order = _locked(order)
    if order.step != CLOSED:
        raise TransitionNotAllowed(_("工单办结后才能评价。"), code="not_closed")
    existing = Rating.objects.filter(order=order).first()
    if existing is not None:
        if existing.level == level:
            return existing  # the same rating submitted twice
        raise ConflictError(_("该工单已评价，不能重复评价。"), code="rated")
    rating = Rating.objects.create(
        order=order, level=level, comment=(comment or "")[:500], channel=channel, rated_by_id=_name(by)[0]
    )
    order.rating = level
    _save(order)
    record_order_event(order, EventKind.RATED, by or _("评价人"), comment=comment, level=level)
    if level in BAD_RATINGS:
        from .followup import open_follow_up

        rating.follow_up = open_follow_up(order=order, rating=rating)
        rating.save(update_fields=["follow_up"])
    return rating


# ---------------------------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    warned: int = 0
    overdue: int = 0
    escalated: int = 0


SWEEPER = "worker"


def sweep(*, now: dt.datetime | None = None, batch: int = 500) -> SweepResult:
    """Mark orders whose warning or deadline time has passed, notify, and escalate overdue ones."""
    now = now or timezone.now()
    result = SweepResult()
    skip_locked = connection.features.has_select_for_update_skip_locked
    while True:
        with transaction.atomic():
            due = list(
                WorkOrder.objects.select_for_update(skip_locked=skip_locked)
                .filter(status=StatusGroup.OPEN, due_at__lte=now)
                .exclude(sla_state=SlaState.OVERDUE)
                .order_by("due_at")[:batch]
            )
            for order in due:
                order.sla_state = SlaState.OVERDUE
                order.ever_overdue = True
                _save(order, bump=False)
                record_order_event(
                    order,
                    EventKind.OVERDUE,
                    SWEEPER,
                    due_at=order.due_at.isoformat() if order.due_at else None,
                )
                notify_assignees(order, "workorder.overdue")
                if _escalate(order):
                    result.escalated += 1
            result.overdue += len(due)
        if len(due) < batch:
            break
    while True:
        with transaction.atomic():
            warn = list(
                WorkOrder.objects.select_for_update(skip_locked=skip_locked)
                .filter(status=StatusGroup.OPEN, sla_state=SlaState.ON_TIME, warn_at__lte=now)
                .order_by("warn_at")[:batch]
            )
            for order in warn:
                order.sla_state = SlaState.WARNING
                _save(order, bump=False)
                record_order_event(
                    order,
                    EventKind.WARNED,
                    SWEEPER,
                    due_at=order.due_at.isoformat() if order.due_at else None,
                )
                notify_assignees(order, "workorder.warning")
            result.warned += len(warn)
        if len(warn) < batch:
            break
    return result


def _escalate(order: WorkOrder) -> bool:
    """催办: tell the head of the responsible department that the order is overdue."""
    department = order.assignee_department
    head = department.head if department else None
    if department is None or head is None:
        return False
    record_order_event(order, EventKind.ESCALATED, SWEEPER, to_user_id=head.pk, to_user=head.display_name)
    from .notify import notify_user

    notify_user(order, head, "workorder.escalated", department=department.name)
    return True


# ---------------------------------------------------------------------------------- recompute


def recompute_provisional(year: int) -> int:
    """Rebuild open provisional deadlines once `year`'s holiday schedule is entered (worktime hook)."""
    changed = 0
    start = dt.datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())
    # Paused orders are left alone: resuming rebuilds their deadline with the calendar of that day.
    candidates = WorkOrder.objects.select_for_update().filter(
        due_provisional=True, status=StatusGroup.OPEN, due_at__gte=start
    )
    for order in candidates:
        step = order.process.step(order.step)
        anchor = order.anchor_at or order.step_started_at
        if anchor is None:
            continue
        if order.anchor_remaining is None:
            clock = deadlines.start_step(step, order, anchor)
        elif order.step_budget is not None:
            clock = deadlines.resume_step(step, anchor, order.anchor_remaining, order.step_budget)
        else:
            continue
        old = order.due_at
        order.due_at, order.warn_at, order.due_provisional = clock.due_at, clock.warn_at, clock.provisional
        _save(order, bump=False)
        if old != order.due_at:
            record_order_event(
                order,
                EventKind.DEADLINE_CHANGED,
                SWEEPER,
                reason="holiday_schedule_entered",
                year=year,
                old_due=old.isoformat() if old else None,
                new_due=order.due_at.isoformat() if order.due_at else None,
            )
            changed += 1
    return changed
