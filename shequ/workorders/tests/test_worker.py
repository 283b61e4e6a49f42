from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from shequ.notifications.models import InAppNotification, OutboxMessage
from shequ.workorders.choices import SlaState

from .conftest import at

pytestmark = pytest.mark.django_db


def test_worker_once_sweeps_and_delivers(make_order, personas):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        order = make_order(assignee_department=None, assignee_user=personas["backoffice"])
    out = StringIO()
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):  # past Thursday's deadline
        call_command("worker", "--once", stdout=out)
    order.refresh_from_db()
    assert order.sla_state == SlaState.OVERDUE
    assert "overdue 1" in out.getvalue()
    assert not OutboxMessage.objects.filter(status="pending").exists()
    assert InAppNotification.objects.filter(user=personas["backoffice"], title__contains="超期").exists()
