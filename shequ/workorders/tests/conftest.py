"""A small process used by the engine's own tests (real modules declare theirs)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.accounts.models import Department
from shequ.workorders.choices import CLOSED, EventKind
from shequ.workorders.process import Process, Step, Transition, WorkingDays, WorkingHours, register
from shequ.workorders.services import Subject, create_order

TEST_KIND = "test.case"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

TEST_PROCESS = register(
    Process(
        kind=TEST_KIND,
        prefix="TC",
        label=_("测试事项"),
        steps=[
            Step("examining", _("审核"), actors={Role.BACK_OFFICE}, limit=WorkingDays(3)),
            Step("delivering", _("送达"), actors={Role.FRONT_DESK}, limit=WorkingHours(4)),
        ],
        transitions=[
            Transition("examining", "delivering", "approve", _("审核通过")),
            Transition(
                "examining", CLOSED, "reject", _("不予受理"), event=EventKind.COMPLETED, requires_comment=True
            ),
            Transition("delivering", CLOSED, "deliver", _("已送达"), event=EventKind.DELIVERED),
            Transition(
                "delivering",
                "examining",
                "send_back",
                _("退回审核"),
                event=EventKind.RETURNED,
                is_return=True,
            ),
        ],
        pause_reasons={"supplement": _("等待申请人补正材料")},
        viewers={Role.FRONT_DESK, Role.LEADER, Role.CENTRE_MANAGER},
    )
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def civil_affairs(demo):
    return Department.objects.get(place__code="310101020", code="civil-affairs")


@pytest.fixture
def make_order(personas, civil_affairs):
    def make(now: dt.datetime | None = None, place_code: str = "310101020001", **kwargs):
        kwargs.setdefault("assignee_department", civil_affairs)
        return create_order(
            kind=TEST_KIND,
            by=personas["frontdesk"],
            place_code=place_code,
            title="居住证办理",
            subject=Subject(name="王小明", phone="13912345678"),
            now=now,
            **kwargs,
        )

    return make
