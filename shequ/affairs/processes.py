"""The processes of the acceptance centre.

A case (``affairs.case``) is accepted at the front desk and starts in the back office:

    examining ──approve/reject──▶ delivering ──deliver──▶ closed
        │   ▲                         (the decision, either way, is delivered)
        │   └── return (退回前台) ◀── delivering
        └──coordinate──▶ coordinating ──(all sub-tasks done)──▶ delivering

The whole promised time limit of the matter (承诺时限, working days) bounds the back office's
work; delivery has its own three working days. A matter that can be finished on the spot is
closed by the desk at once. Waiting for the applicant's supplement (补正) pauses the clock.

A matter examined by several departments splits into sub-tasks (``affairs.subtask``), one per
department, handled in parallel; the case moves on when the last one is done.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.workorders.choices import CLOSED, EventKind
from shequ.workorders.models import WorkOrder
from shequ.workorders.process import Process, Step, Transition, WorkingDays, register

CASE_KIND = "affairs.case"
SUBTASK_KIND = "affairs.subtask"
DESK = frozenset({Role.FRONT_DESK})
BACK = frozenset({Role.BACK_OFFICE})


def _case_after(order: WorkOrder, transition: Transition, by: Any) -> None:
    """Keep the case's decision in step with the back office's action."""
    from .models import Case

    decisions = {"approve": "approved", "reject": "rejected", "finish_on_spot": "approved"}
    if transition.action == "finish_coordination":
        decision = (order.data or {}).get("decision", "approved")
    elif transition.action in decisions:
        decision = decisions[transition.action]
    else:
        return
    Case.objects.filter(pk=order.pk).update(
        decision=decision, on_the_spot=transition.action == "finish_on_spot"
    )


def _subtask_after(order: WorkOrder, transition: Transition, by: Any) -> None:
    if order.is_closed:
        from .services import finish_coordination_if_done

        finish_coordination_if_done(order)


def promised_limit(order: WorkOrder) -> WorkingDays:
    """The matter's promised days (承诺时限); a sub-task inherits its case's."""
    days = (order.data or {}).get("promised_days")
    return WorkingDays(int(days) if days else 5)


CASE = register(
    Process(
        kind=CASE_KIND,
        prefix="SW",
        label=_("事务受理"),
        steps=[
            Step("examining", _("后台审核"), actors=BACK, limit=promised_limit),
            Step("coordinating", _("协同办理"), actors=BACK, limit=promised_limit),
            Step("delivering", _("结果送达"), actors=DESK, limit=WorkingDays(3)),
        ],
        transitions=[
            Transition("examining", "delivering", "approve", _("审核通过"), event=EventKind.COMPLETED),
            Transition(
                "examining",
                "delivering",
                "reject",
                _("不予办理"),
                event=EventKind.COMPLETED,
                requires_comment=True,
            ),
            Transition("examining", "coordinating", "coordinate", _("发起协同办理")),
            Transition(
                "coordinating", "delivering", "finish_coordination", _("协同完成"), event=EventKind.COMPLETED
            ),
            Transition("delivering", CLOSED, "deliver", _("已送达"), event=EventKind.DELIVERED),
            Transition(
                "delivering",
                "examining",
                "send_back",
                _("退回后台"),
                event=EventKind.RETURNED,
                requires_comment=True,
                is_return=True,
            ),
            # On-the-spot matters (当场办结): the desk closes the case it has just accepted.
            Transition(
                "examining", CLOSED, "finish_on_spot", _("当场办结"), event=EventKind.COMPLETED, actors=DESK
            ),
        ],
        pause_reasons={"supplement": _("等待申请人补正材料"), "home_visit": _("等待上门服务")},
        viewers={Role.FRONT_DESK, Role.CENTRE_MANAGER, Role.LEADER},
        after_transition=_case_after,
    )
)

SUBTASK = register(
    Process(
        kind=SUBTASK_KIND,
        prefix="XT",
        label=_("协同子任务"),
        steps=[Step("handling", _("协同审核"), actors=BACK, limit=promised_limit)],
        transitions=[
            Transition("handling", CLOSED, "agree", _("同意"), event=EventKind.COMPLETED),
            Transition(
                "handling", CLOSED, "disagree", _("不同意"), event=EventKind.COMPLETED, requires_comment=True
            ),
        ],
        viewers={Role.FRONT_DESK, Role.CENTRE_MANAGER, Role.LEADER},
        rated=False,
        after_transition=_subtask_after,
    )
)
