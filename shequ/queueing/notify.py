"""SMS to residents who left a phone number at the kiosk or when booking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from shequ.notifications.templates import register_template

if TYPE_CHECKING:
    from .models import Appointment, Ticket, Window

register_template(
    "queue.called",
    _("请到 {{ window }} 号窗口"),
    _("【{{ centre }}】请 {{ number }} 号到 {{ window }} 号窗口办理{{ category }}。过号请重新取号。"),
)
register_template(
    "queue.booked",
    _("预约成功 {{ code }}"),
    _(
        "【{{ centre }}】您已预约 {{ day }} {{ start }}-{{ end }} 的{{ category }}，预约码 {{ code }}。"
        "请在时段开始前 30 分钟至开始后 15 分钟内凭预约码签到取号；如需取消请凭预约码和手机号后四位办理。"
    ),
)


def ticket_called(ticket: Ticket, window: Window) -> None:
    """The resident's number is called: one SMS per call of the ticket at a window."""
    from shequ.notifications.services import notify

    if not ticket.phone:
        return
    notify(
        template="queue.called",
        context={
            "centre": ticket.category.centre.name,
            "number": ticket.number,
            "window": window.number,
            "category": ticket.category.name,
        },
        phone=ticket.phone,
        channels=("sms",),
        dedupe_key=f"queue.called:{ticket.pk}:{window.pk}:{ticket.recalls}",
        place_code=ticket.centre_code,
    )


def appointment_booked(appointment: Appointment) -> None:
    """The booking's confirmation, with the code to check in or cancel with."""
    from shequ.notifications.services import notify

    notify(
        template="queue.booked",
        context={
            "centre": appointment.category.centre.name,
            "day": appointment.day,
            "start": appointment.slot_start.strftime("%H:%M"),
            "end": appointment.slot_end().strftime("%H:%M"),
            "category": appointment.category.name,
            "code": appointment.code,
        },
        phone=appointment.phone,
        channels=("sms",),
        dedupe_key=f"queue.booked:{appointment.pk}",
        place_code=appointment.category.centre.code,
    )
