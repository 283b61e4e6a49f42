"""The affairs desk can open a case from the ticket being served: ``?origin=ticket:<token>``.
Only the clerk serving the ticket may use it; the ticket's phone pre-fills the desk."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from shequ.affairs.origins import Origin, register_origin
from shequ.workorders.models import WorkOrder

from . import services
from .choices import TicketStatus
from .models import Ticket


def _served_by(token: str, user: Any) -> Ticket | None:
    return Ticket.objects.filter(
        token=token, clerk=user, status__in=[TicketStatus.CALLED, TicketStatus.SERVING]
    ).first()


def _label(token: str, user: Any) -> str | None:
    ticket = _served_by(token, user)
    return None if ticket is None else _("排队号 %(number)s") % {"number": ticket.number}


def _prefill(token: str, user: Any) -> dict[str, Any]:
    ticket = _served_by(token, user)
    return {"phone": ticket.phone} if ticket is not None and ticket.phone else {}


def _link(token: str, user: Any, order: WorkOrder) -> None:
    ticket = Ticket.objects.filter(token=token).first()
    if ticket is not None:
        services.link_case(ticket=ticket, clerk=user, case_order=order)


register_origin(Origin(kind="ticket", label=_label, prefill=_prefill, link=_link))
