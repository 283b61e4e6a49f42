"""Follow-up of a bad rating (差评整改), itself a work order: the responsible department
rectifies within the follow-up limit (default 15 working days), then calls the resident back
and records the call (回访)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role

from .choices import CLOSED, Channel, EventKind
from .models import Rating, WorkOrder
from .process import Process, Step, Transition, WorkingDays, register

FOLLOW_UP_KIND = "workorders.followup"
HANDLERS = frozenset({Role.LEADER, Role.CENTRE_MANAGER, Role.BACK_OFFICE})


def _follow_up_limit(order: WorkOrder) -> WorkingDays:
    return WorkingDays(settings.FOLLOW_UP_WORKING_DAYS)


FOLLOW_UP = register(
    Process(
        kind=FOLLOW_UP_KIND,
        prefix="ZG",
        label=_("差评整改"),
        steps=[
            Step("rectifying", _("整改"), actors=HANDLERS, limit=_follow_up_limit),
            Step("calling_back", _("回访"), actors=HANDLERS, limit=WorkingDays(2)),
        ],
        transitions=[
            Transition("rectifying", "calling_back", "rectified", _("整改完成"), requires_comment=True),
            Transition(
                "calling_back",
                CLOSED,
                "called_back",
                _("回访完成"),
                event=EventKind.COMPLETED,
                requires_comment=True,
            ),
            Transition(
                "calling_back", "rectifying", "not_resolved", _("回访不满意，继续整改"), requires_comment=True
            ),
        ],
        rated=False,
    )
)


def open_follow_up(*, order: WorkOrder, rating: Rating) -> WorkOrder:
    from .services import Subject, create_order

    follow_up = create_order(
        kind=FOLLOW_UP_KIND,
        by="system: bad rating",
        place_code=order.place_code,
        title=str(_("差评整改：%(number)s %(title)s") % {"number": order.number, "title": order.title})[:200],
        channel=Channel.SYSTEM,
        subject=Subject(
            name=order.subject_name, phone=order.subject_phone, person_id=order.subject_person_id
        ),
        assignee_department=order.assignee_department,
        parent=order,
        data={"rating": rating.level, "rating_comment": rating.comment},
        comment=rating.comment,
    )
    head = order.assignee_department.head if order.assignee_department else None
    if head is not None:
        from .notify import notify_user

        notify_user(
            follow_up, head, "workorder.bad_rating", rating=rating.get_level_display(), comment=rating.comment
        )
    return follow_up
