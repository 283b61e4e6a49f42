"""Work orders over the JSON API: the inbox, one order with its timeline, and actions.
Writes accept an `Idempotency-Key` header: a retried request returns the first result."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from shequ.accounts.scoping import VIEW, get_scoped_or_404
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_phone

from . import services
from .models import WorkOrder
from .selectors import InboxFilters, inbox_page, visible_orders

router = Router(tags=["workorders"])


class OrderOut(Schema):
    number: str
    kind: str
    title: str
    place_code: str
    step: str
    step_label: str
    status: str
    sla_state: str
    due_at: dt.datetime | None
    due_provisional: bool
    assignee_user: str | None
    assignee_department: str | None
    subject_name: str
    subject_phone: str  # masked
    version: int

    @staticmethod
    def of(order: WorkOrder) -> OrderOut:
        return OrderOut(
            number=order.number,
            kind=order.kind,
            title=order.title,
            place_code=order.place_code,
            step=order.step,
            step_label=str(order.step_label),
            status=order.status,
            sla_state=order.sla_state,
            due_at=order.due_at,
            due_provisional=order.due_provisional,
            assignee_user=order.assignee_user.display_name if order.assignee_user else None,
            assignee_department=order.assignee_department.name if order.assignee_department else None,
            subject_name=order.subject_name,
            subject_phone=mask_phone(order.subject_phone),
            version=order.version,
        )


class EventOut(Schema):
    kind: str
    step_from: str
    step_to: str
    actor_name: str
    comment: str
    created_at: dt.datetime


class OrderDetailOut(OrderOut):
    events: list[EventOut]
    actions: list[str]


class InboxOut(Schema):
    items: list[OrderOut]
    count: int
    count_capped: bool
    next_after: str | None


class ActionIn(Schema):
    action: str
    comment: str = ""
    version: int | None = None


@router.get("", response=InboxOut, summary="我的待办（按期限排序）")
def inbox(
    request: HttpRequest, kind: str = "", step: str = "", sla_state: str = "", place: str = ""
) -> InboxOut:
    filters = InboxFilters(kind=kind, step=step, sla_state=sla_state, place=place if place.isdigit() else "")
    page = inbox_page(request.user, request, filters)
    return InboxOut(
        items=[OrderOut.of(o) for o in page.items],
        count=page.count,
        count_capped=page.count_capped,
        next_after=page.next_after,
    )


def _detail(request: HttpRequest, order: WorkOrder) -> OrderDetailOut:
    from .permissions import available_transitions

    base = OrderOut.of(order).dict()
    return OrderDetailOut(
        **base,
        events=[EventOut.from_orm(e) for e in order.events.all()[:500]],
        actions=[t.action for t in available_transitions(request.user, order)],
    )


@router.get("/{number}", response=OrderDetailOut, summary="工单详情与办理过程")
def detail(request: HttpRequest, number: str) -> OrderDetailOut:
    order = get_scoped_or_404(
        visible_orders(request.user).select_related("assignee_user", "assignee_department"),
        request.user,
        VIEW,
        number=number,
    )
    return _detail(request, order)


@router.post("/{number}/actions", response=OrderDetailOut, summary="执行办理操作")
def perform(request: HttpRequest, number: str, payload: ActionIn) -> OrderDetailOut:
    order = get_scoped_or_404(visible_orders(request.user), request.user, VIEW, number=number)
    run_once(
        key=key_from(request),
        user_id=request.user.pk,
        scope=f"workorders.act.{order.pk}",
        action=lambda: services.perform(
            order=order,
            by=request.user,
            action=payload.action,
            comment=payload.comment,
            expected_version=payload.version,
        ),
        encode=lambda _order: True,
        decode=lambda _stored: None,
    )
    order.refresh_from_db()
    return _detail(request, order)
