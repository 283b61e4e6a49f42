"""The closed loop of grid management (notes §3.1), as the process ``grid.report``.

The standard's seven stages, and the roles of its two centres:

    1 collection   the report is created (inspector, resident, Open311, staff for a caller)
    2 filing       监督中心 operator verifies it: 立案, or 注销 (cancel) / merge into a duplicate
    3 dispatching  指挥中心 dispatcher sends it to the responsible department (the clock starts)
                   ─ escalate ▶ coordinating (a leader settles a dispute over responsibility)
    4 handling     the department handles it within the class's limit, with an after-photo
                   ─ return (退单) ▶ dispatching, with a reason
    5 feedback     the command centre checks the department's answer and passes it on
    6 verifying    the inspector re-checks on site: pass ▶ closing, fail ▶ handling (返工)
    7 closing      the supervision centre closes the case; evaluation reads the indicators

Transitions that need more than a comment (dispatch needs a department, handling needs a photo)
are fired through `shequ.grid.services`, which calls the engine.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.workorders.choices import CANCELLED, CLOSED, EventKind
from shequ.workorders.models import WorkOrder
from shequ.workorders.process import Limit, Process, Step, Transition, WorkingDays, WorkingHours, register

REPORT_KIND = "grid.report"

SUPERVISION = frozenset({Role.SUPERVISION_OPERATOR})
COMMAND = frozenset({Role.DISPATCHER})
DEPARTMENT = frozenset({Role.BACK_OFFICE})
INSPECTOR = frozenset({Role.GRID_INSPECTOR})
LEADERS = frozenset({Role.LEADER})


def class_limit(order: WorkOrder) -> Limit:
    """The handling limit of the report's class, copied onto the order when it is dispatched, so a
    city's later edit of the class does not move the deadline of a case already running."""
    data = order.data or {}
    value, unit = data.get("limit"), data.get("limit_unit")
    if not value:
        return WorkingDays(3)
    return WorkingHours(Decimal(str(value))) if unit == "hours" else WorkingDays(int(value))


REPORT = register(
    Process(
        kind=REPORT_KIND,
        prefix="WG",
        label=_("网格案件"),
        steps=[
            Step("filing", _("立案"), actors=SUPERVISION, limit=WorkingHours(1)),
            Step("dispatching", _("派遣"), actors=COMMAND, limit=WorkingHours(1)),
            Step("coordinating", _("协调认定"), actors=LEADERS, limit=WorkingDays(1)),
            Step("handling", _("处置"), actors=DEPARTMENT, limit=class_limit, starts_clock=True),
            Step("feedback", _("处置反馈"), actors=COMMAND, limit=WorkingHours(1)),
            Step("verifying", _("核查"), actors=INSPECTOR, limit=WorkingHours(2)),
            Step("closing", _("结案"), actors=SUPERVISION, limit=WorkingHours(1)),
        ],
        transitions=[
            Transition("filing", "dispatching", "file", _("立案"), event=EventKind.ACCEPTED),
            Transition(
                "filing",
                CANCELLED,
                "void",
                _("不予立案（注销）"),
                event=EventKind.CANCELLED,
                requires_comment=True,
            ),
            Transition("dispatching", "handling", "dispatch", _("派遣"), event=EventKind.ASSIGNED),
            Transition("dispatching", "coordinating", "escalate", _("提请协调"), requires_comment=True),
            Transition("coordinating", "handling", "dispatch", _("认定并派遣"), event=EventKind.ASSIGNED),
            Transition(
                "handling",
                "dispatching",
                "return",
                _("退单"),
                event=EventKind.RETURNED,
                requires_comment=True,
                is_return=True,
                clears_assignee=True,
            ),
            Transition(
                "handling",
                "feedback",
                "finish",
                _("处置完毕"),
                event=EventKind.COMPLETED,
                requires_comment=True,
            ),
            Transition("feedback", "verifying", "forward", _("转监督中心核查")),
            Transition(
                "feedback",
                "handling",
                "send_back",
                _("退回处置部门"),
                event=EventKind.RETURNED,
                requires_comment=True,
            ),
            Transition("verifying", "closing", "pass", _("核查通过")),
            Transition(
                "verifying",
                "handling",
                "fail",
                _("核查未通过（返工）"),
                event=EventKind.RETURNED,
                requires_comment=True,
                is_rework=True,
            ),
            Transition("closing", CLOSED, "close", _("结案"), event=EventKind.COMPLETED),
        ],
        viewers={Role.LEADER, Role.SUPERVISION_OPERATOR, Role.DISPATCHER, Role.GRID_INSPECTOR},
        rated=False,
    )
)
