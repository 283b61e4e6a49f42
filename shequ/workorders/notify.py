"""Who hears about an order, through the outbox (`shequ.notifications`): nothing is sent before
the transaction that changed the order commits."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from shequ.accounts.choices import Role
from shequ.accounts.models import RoleAssignment

from .models import WorkOrder


def _context(order: WorkOrder, **extra: Any) -> dict[str, Any]:
    return {
        "number": order.number,
        "title": order.title,
        "kind": str(order.process.label),
        "step": str(order.step_label),
        "due_at": timezone.localtime(order.due_at).isoformat() if order.due_at else "",
        "link": reverse("workorders:detail", args=[order.number]),
        **extra,
    }


def _send(
    order: WorkOrder,
    template: str,
    *,
    channels: tuple[str, ...],
    key: str,
    extra: dict[str, Any] | None = None,
    **addresses: Any,
) -> None:
    from shequ.notifications.services import notify

    notify(
        template=template,
        context=_context(order, **(extra or {})),
        channels=channels,
        # One message per order state and template: the worker's marks (warned, overdue) don't
        # bump the version, but their templates differ, so each is still sent once.
        dedupe_key=f"{template}:{order.pk}:{order.version}:{key}",
        place_code=order.place_code,
        **addresses,
    )


def notify_user(order: WorkOrder, user: Any, template: str, **extra: Any) -> None:
    """One person, in-app and by SMS; `extra` fills the template's own keys."""
    _send(order, template, channels=("inapp", "sms"), key=f"u{user.pk}", extra=extra, user=user)


def notify_assignees(order: WorkOrder, template: str) -> None:
    """The assigned person (in-app and SMS), or the members of the assigned department (in-app)."""
    if order.assignee_user_id:
        notify_user(order, order.assignee_user, template)
        return
    if order.assignee_department_id:
        members = (
            RoleAssignment.objects.active()
            .filter(department_id=order.assignee_department_id, role=Role.BACK_OFFICE)
            .select_related("user")
        )
        for member in members:
            _send(order, template, channels=("inapp",), key=f"u{member.user_id}", user=member.user)


def notify_subject(order: WorkOrder, template: str, **extra: Any) -> None:
    """The resident the order is about, by SMS to the phone the desk recorded."""
    if not order.subject_phone:
        return
    from shequ.notifications.services import notify

    notify(
        template=template,
        context=_context(order, **extra),
        channels=("sms",),
        phone=order.subject_phone,
        dedupe_key=f"{template}:{order.pk}:{order.version}:subject",
        place_code=order.place_code,
    )
