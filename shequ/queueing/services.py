"""Queue services: issue a ticket, sign in at a window, call the next ticket, and the rest of a
ticket's life; appointments with capped slots.

Concurrency (DESIGN §4.2): ticket numbers come from an atomic daily counter; calling the next
ticket claims it with SELECT … FOR UPDATE SKIP LOCKED, so two windows calling at the same moment
never get the same ticket; a slot's bookings are raised by a conditional UPDATE that cannot pass
the capacity.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.choices import Role
from shequ.accounts.scoping import active_assignments
from shequ.core.errors import ConflictError
from shequ.core.idnumbers import age_on, clean_phone
from shequ.core.sequences import NO_DAY, current_value, next_value
from shequ.places.codes import subtree_prefix

from . import notify
from .choices import AppointmentStatus, TicketPriority, TicketStatus
from .models import Appointment, ServiceCategory, SlotBooking, Ticket, Window, WindowSession

PRIORITY_AGE = 70
BOOKING_DAYS = 14  # residents book from tomorrow up to this many days ahead
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand
DESK_ROLES = frozenset({Role.FRONT_DESK, Role.BACK_OFFICE, Role.CENTRE_MANAGER, Role.MEDIATOR})


def bump_display(centre_code: str) -> int:
    """Tell the hall display (long-polling) that something changed at this centre: one upsert
    of the centre's version counter, run after the change commits (so a display woken by it
    reads the change) and in its own short statement (so windows and kiosks never queue on it)."""
    return next_value(f"display:{centre_code}", NO_DAY)


def display_version(centre_code: str) -> int:
    """One primary-key read; the display's long-poll asks it a few times a second."""
    return current_value(f"display:{centre_code}")


# ------------------------------------------------------------------------------------ tickets


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    ahead: int
    wait_minutes: int


def detect_priority(id_number: str = "", *, disabled: bool = False, today: dt.date | None = None) -> str:
    """Why a resident goes ahead (70 or older from the ID number, or disabled), or ''."""
    if id_number:
        age = age_on(id_number.strip().upper(), today or timezone.localdate())
        if age is not None and age >= PRIORITY_AGE:
            return _("%(age)d 周岁老人") % {"age": age}
    if disabled:
        return _("残疾人")
    return ""


def wait_minutes(ahead: int, average_minutes: int, staffed_windows: int) -> int:
    """The people ahead times the category's average, shared by its staffed windows."""
    return round(ahead * average_minutes / max(staffed_windows, 1))


def queue_position(ticket: Ticket) -> tuple[int, int]:
    """(people ahead, estimated minutes) for a waiting ticket: the tickets of its category that
    will be called before it, and the windows serving the category with a clerk signed in.

    One statement, written as SQL because it runs on every ticket issued and every follow-page
    refresh: the ORM's version spent longer compiling than the database spent answering. The
    count is served by the partial index ticket_waiting_category alone.
    """
    ops = connection.ops  # raw SQL: dates and times in the backend's own storage format
    tickets = Ticket._meta.db_table
    sessions = WindowSession._meta.db_table
    served = Window.categories.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {tickets} t WHERE t.category_id = %s AND t.day = %s"
            "   AND t.status = %s AND (t.priority > %s OR (t.priority = %s AND t.created_at < %s))),"
            f" (SELECT COUNT(*) FROM {sessions} s JOIN {served} w ON w.window_id = s.window_id"
            "   WHERE w.servicecategory_id = %s AND s.ended_at IS NULL)",
            [
                ticket.category_id,
                ops.adapt_datefield_value(ticket.day),
                TicketStatus.WAITING.value,
                ticket.priority,
                ticket.priority,
                ops.adapt_datetimefield_value(ticket.created_at),
                ticket.category_id,
            ],
        )
        ahead, staffed = cursor.fetchone()
    return int(ahead), wait_minutes(int(ahead), ticket.category.average_minutes, int(staffed))


@transaction.atomic
def issue_ticket(
    *,
    category: ServiceCategory,
    phone: str = "",
    id_number: str = "",
    disabled: bool = False,
    appointment: Appointment | None = None,
    now: dt.datetime | None = None,
) -> Issued:
    """A new ticket at the kiosk (or at check-in of an appointment)."""
    if not category.is_active:
        raise ValidationError({"category": [_("服务类别“%(name)s”暂停取号。") % {"name": category.name}]})
    phone = clean_phone(phone, required=False)
    now = now or timezone.now()
    day = timezone.localdate(now)
    centre_code = category.centre.code
    reason = detect_priority(id_number, disabled=disabled, today=day)
    if appointment is not None:
        priority, reason = TicketPriority.APPOINTMENT, _("预约 %(code)s") % {"code": appointment.code}
    elif reason:
        priority = TicketPriority.PRIORITY_GROUP
    else:
        priority = TicketPriority.NORMAL
    seq = next_value(f"ticket:{centre_code}:{category.prefix}", day)
    ticket = Ticket.objects.create(
        centre_code=centre_code,
        day=day,
        category=category,
        number=f"{category.prefix}{seq:03d}",
        priority=priority,
        priority_reason=reason[:50],
        phone=phone,
        appointment=appointment,
        token=secrets.token_urlsafe(16),
    )
    ahead, minutes = queue_position(ticket)
    transaction.on_commit(lambda: bump_display(centre_code))
    return Issued(ticket=ticket, ahead=ahead, wait_minutes=minutes)


# ------------------------------------------------------------------------------------ windows


def _may_staff(user: Any, window: Window) -> bool:
    if user.is_superuser:
        return True
    centre = window.centre
    return any(
        a.role in DESK_ROLES and centre.code.startswith(subtree_prefix(a.place.code, a.place.kind))
        for a in active_assignments(user)
    )


@transaction.atomic
def sign_in(*, window: Window, clerk: Any) -> WindowSession:
    """Sit down at a window: ends the clerk's session elsewhere; a window holds one clerk."""
    if not _may_staff(clerk, window):
        raise PermissionDenied(_("您不是本中心的窗口人员。"))
    current = (
        WindowSession.objects.filter(window=window, ended_at__isnull=True).select_related("clerk").first()
    )
    if current is not None:
        if current.clerk_id == clerk.pk:
            return current
        raise ConflictError(
            _("%(number)s 号窗口已由 %(name)s 签入，请先由其签出。")
            % {"number": window.number, "name": current.clerk.display_name}
        )
    # Sitting down here ends the clerk's session elsewhere; a number still open there would be
    # stranded (only its caller may move it), so it must be dealt with first.
    held = _held_ticket(clerk, exclude_window=window)
    if held is not None and held.window is not None:
        raise ConflictError(
            _("您在 %(number)s 号窗口还有未办结的 %(ticket)s，请先办结、过号或转出。")
            % {"number": held.window.number, "ticket": held.number},
            code="ticket_open",
        )
    WindowSession.objects.filter(clerk=clerk, ended_at__isnull=True).update(ended_at=timezone.now())
    try:
        with transaction.atomic():
            session = WindowSession.objects.create(window=window, clerk=clerk)
    except IntegrityError:
        raise ConflictError(_("%(number)s 号窗口刚刚已被他人签入。") % {"number": window.number}) from None
    transaction.on_commit(lambda: bump_display(window.centre.code))
    return session


def _held_ticket(
    clerk: Any, *, window: Window | None = None, exclude_window: Window | None = None
) -> Ticket | None:
    """A number this clerk called and has not finished, passed on or marked absent."""
    held = Ticket.objects.filter(clerk=clerk, status__in=[TicketStatus.CALLED, TicketStatus.SERVING])
    if window is not None:
        held = held.filter(window=window)
    if exclude_window is not None:
        held = held.filter(window__isnull=False).exclude(window=exclude_window)
    return held.select_related("window").first()


@transaction.atomic
def sign_out(*, session: WindowSession) -> None:
    """Leave the window; refused while a number called here is still open (it would block the
    next clerk, since only its caller may move it). The display then shows 暂停服务."""
    held = _held_ticket(session.clerk, window=session.window)
    if held is not None:
        raise ConflictError(
            _("请先办结、过号或转出 %(number)s，再签出。") % {"number": held.number}, code="ticket_open"
        )
    WindowSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    centre_code = session.window.centre.code
    transaction.on_commit(lambda: bump_display(centre_code))


def open_session(clerk: Any, window: Window) -> WindowSession:
    """The clerk's open session at this window, or a clear refusal."""
    session = WindowSession.objects.filter(window=window, clerk=clerk, ended_at__isnull=True).first()
    if session is None:
        raise _not_signed_in(window)
    return session


def _not_signed_in(window: Window) -> PermissionDenied:
    return PermissionDenied(_("您尚未在 %(number)s 号窗口签入，不能在此叫号。") % {"number": window.number})


def call_order(window: Window, day: dt.date) -> QuerySet[Ticket]:
    """The tickets waiting for this window, best first: appointments, then priority groups,
    then first come first served."""
    return Ticket.objects.filter(
        centre_code=window.centre.code,
        day=day,
        status=TicketStatus.WAITING,
        category__in=window.categories.all(),
    ).order_by("-priority", "created_at", "id")


@transaction.atomic
def call_next(*, window: Window, clerk: Any, now: dt.datetime | None = None) -> Ticket | None:
    """The best waiting ticket this window serves: appointments, then priority groups, then
    first come first served. None when nobody is waiting."""
    busy = (
        WindowSession.objects.filter(window=window, clerk=clerk, ended_at__isnull=True)
        .values_list(
            Exists(
                Ticket.objects.filter(window=window, status__in=[TicketStatus.CALLED, TicketStatus.SERVING])
            ),
            flat=True,
        )
        .first()
    )
    if busy is None:
        raise _not_signed_in(window)
    if busy:
        raise ConflictError(_("本窗口还有未办结的号，请先完成、过号或转出。"))
    now = now or timezone.now()
    candidates = call_order(window, timezone.localdate(now)).select_for_update(
        skip_locked=connection.features.has_select_for_update_skip_locked
    )
    ticket = candidates.first()
    if ticket is None:
        return None
    ticket.status = TicketStatus.CALLED
    ticket.window = window
    ticket.clerk = clerk
    ticket.called_at = now
    ticket.save(update_fields=["status", "window", "clerk", "called_at"])
    if ticket.appointment_id:
        Appointment.objects.filter(pk=ticket.appointment_id).update(status=AppointmentStatus.CHECKED_IN)
    notify.ticket_called(ticket, window)
    transaction.on_commit(lambda: bump_display(window.centre.code))
    return ticket


def _move(ticket: Ticket, clerk: Any, allowed: tuple[str, ...], **changes: Any) -> Ticket:
    """Change a ticket at this clerk's window if it is in one of `allowed` states."""
    updated = Ticket.objects.filter(pk=ticket.pk, status__in=allowed, clerk=clerk).update(**changes)
    ticket.refresh_from_db()
    if not updated:
        raise ConflictError(
            _("号码 %(number)s 当前为“%(status)s”，不能执行此操作。")
            % {"number": ticket.number, "status": ticket.get_status_display()}
        )
    transaction.on_commit(lambda: bump_display(ticket.centre_code))
    return ticket


@transaction.atomic
def recall(*, ticket: Ticket, clerk: Any) -> Ticket:
    """Call the same number again (the display and the SMS repeat it)."""
    ticket = _move(ticket, clerk, (TicketStatus.CALLED,), recalls=F("recalls") + 1, called_at=timezone.now())
    if ticket.window is not None:
        notify.ticket_called(ticket, ticket.window)
    return ticket


@transaction.atomic
def mark_no_show(*, ticket: Ticket, clerk: Any) -> Ticket:
    return _move(
        ticket, clerk, (TicketStatus.CALLED,), status=TicketStatus.NO_SHOW, finished_at=timezone.now()
    )


@transaction.atomic
def start_service(*, ticket: Ticket, clerk: Any) -> Ticket:
    return _move(
        ticket, clerk, (TicketStatus.CALLED,), status=TicketStatus.SERVING, started_at=timezone.now()
    )


@transaction.atomic
def finish_service(*, ticket: Ticket, clerk: Any) -> Ticket:
    return _move(
        ticket,
        clerk,
        (TicketStatus.CALLED, TicketStatus.SERVING),
        status=TicketStatus.DONE,
        finished_at=timezone.now(),
    )


@transaction.atomic
def transfer(*, ticket: Ticket, clerk: Any, category: ServiceCategory) -> Ticket:
    """Send the resident to another category's queue, keeping their place in time."""
    if category.centre_id != ticket.category.centre_id:
        raise ValidationError({"category": [_("只能转到本中心的服务类别。")]})
    return _move(
        ticket,
        clerk,
        (TicketStatus.CALLED, TicketStatus.SERVING),
        status=TicketStatus.WAITING,
        category=category,
        window=None,
        called_at=None,
        started_at=None,
    )


@transaction.atomic
def link_case(*, ticket: Ticket, clerk: Any, case_order: Any) -> Ticket:
    """The ticket and the affairs case opened from it point at each other."""
    return _move(ticket, clerk, (TicketStatus.CALLED, TicketStatus.SERVING), case=case_order)


# ------------------------------------------------------------------------------ appointments


def slots(category: ServiceCategory, day: dt.date) -> list[tuple[dt.time, int]]:
    """(slot start, places left) for a working day, inside office hours."""
    from shequ.worktime.calendar import is_working_day
    from shequ.worktime.time import office_hours

    if not is_working_day(day):
        return []
    booked = dict(SlotBooking.objects.filter(category=category, day=day).values_list("slot_start", "booked"))
    result = []
    for start, end in office_hours():
        cursor = dt.datetime.combine(day, start)
        while cursor + dt.timedelta(minutes=category.slot_minutes) <= dt.datetime.combine(day, end):
            left = category.slot_capacity - booked.get(cursor.time(), 0)
            result.append((cursor.time(), max(left, 0)))
            cursor += dt.timedelta(minutes=category.slot_minutes)
    return result


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


@transaction.atomic
def book(
    *, category: ServiceCategory, day: dt.date, slot_start: dt.time, name: str, phone: str, matter: Any = None
) -> Appointment:
    """Take a place in a slot, or say clearly that it is full or not offered."""
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("请填写姓名。")]
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    today = timezone.localdate()
    if day <= today or day > today + dt.timedelta(days=BOOKING_DAYS):
        errors["day"] = [_("请选择明天起 %(days)d 天以内的日期。") % {"days": BOOKING_DAYS}]
    offered = dict(slots(category, day)) if "day" not in errors else {}
    if "day" not in errors and slot_start not in offered:
        errors["slot_start"] = [
            _("%(day)s %(time)s 不是可预约的时段。") % {"day": day, "time": slot_start.strftime("%H:%M")}
        ]
    if errors:
        raise ValidationError(errors)
    SlotBooking.objects.get_or_create(category=category, day=day, slot_start=slot_start)
    taken = SlotBooking.objects.filter(
        category=category, day=day, slot_start=slot_start, booked__lt=category.slot_capacity
    ).update(booked=F("booked") + 1)
    if not taken:
        raise ValidationError(
            {
                "slot_start": [
                    _("%(day)s %(time)s 的名额已满，请选择其他时段。")
                    % {"day": day, "time": slot_start.strftime("%H:%M")}
                ]
            }
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    category=category,
                    matter=matter,
                    day=day,
                    slot_start=slot_start,
                    code=_new_code(),
                    name=name.strip()[:50],
                    phone=phone,
                )
        except IntegrityError:
            continue  # the 1-in-10^12 code collision: draw again
        notify.appointment_booked(appointment)
        return appointment
    raise RuntimeError("could not draw a unique appointment code")


@transaction.atomic
def cancel_appointment(*, code: str, phone_last4: str) -> Appointment:
    appointment = Appointment.objects.select_for_update().filter(code=(code or "").strip().upper()).first()
    if appointment is None or appointment.phone[-4:] != phone_last4:
        raise ValidationError({"code": [_("预约码或手机号后四位不正确。")]})
    if appointment.status != AppointmentStatus.BOOKED:
        raise ConflictError(
            _("该预约当前为“%(status)s”，不能取消。") % {"status": appointment.get_status_display()}
        )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status"])
    SlotBooking.objects.filter(
        category=appointment.category, day=appointment.day, slot_start=appointment.slot_start, booked__gt=0
    ).update(booked=F("booked") - 1)
    return appointment


EARLY = dt.timedelta(minutes=30)
LATE = dt.timedelta(minutes=15)


@transaction.atomic
def check_in(*, code: str, now: dt.datetime | None = None) -> Issued:
    """Check in with the appointment code: a priority ticket, from 30 minutes before the slot to
    15 minutes after its start."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("category__centre")
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if appointment is None:
        raise ValidationError({"code": [_("预约码不存在，请核对。")]})
    if appointment.status == AppointmentStatus.CHECKED_IN and hasattr(appointment, "ticket"):
        ticket = appointment.ticket
        return Issued(ticket, *queue_position(ticket))  # scanned twice
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            {"code": [_("该预约已%(status)s，不能签到。") % {"status": appointment.get_status_display()}]}
        )
    start = timezone.make_aware(dt.datetime.combine(appointment.day, appointment.slot_start))
    if now < start - EARLY:
        raise ValidationError(
            {
                "code": [
                    _("预约时段为 %(when)s，请在开始前 30 分钟内签到。") % {"when": f"{start:%Y-%m-%d %H:%M}"}
                ]
            }
        )
    if now > start + LATE:
        raise ValidationError({"code": [_("预约码已过期（时段开始 15 分钟后失效），请重新取号。")]})
    issued = issue_ticket(
        category=appointment.category, phone=appointment.phone, appointment=appointment, now=now
    )
    appointment.status = AppointmentStatus.CHECKED_IN
    appointment.save(update_fields=["status"])
    return issued


def close_past_days(*, now: dt.datetime | None = None) -> int:
    """A number is good for its day only. After the day: never called → cancelled (counted as
    abandoned), called but never started → no-show, in service → done; clerks who did not sign
    out are signed out. Keeps the waiting indexes small and the staffed-window counts honest."""
    today = timezone.localdate(now or timezone.now())
    past = Ticket.objects.filter(day__lt=today)
    changed = past.filter(status=TicketStatus.WAITING).update(status=TicketStatus.CANCELLED)
    changed += past.filter(status=TicketStatus.CALLED).update(status=TicketStatus.NO_SHOW)
    changed += past.filter(status=TicketStatus.SERVING).update(status=TicketStatus.DONE)
    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    changed += WindowSession.objects.filter(ended_at__isnull=True, started_at__lt=start_of_today).update(
        ended_at=start_of_today
    )
    return changed


def mark_missed_appointments(*, now: dt.datetime | None = None) -> int:
    """爽约: booked appointments whose check-in window has passed (a periodic job of the worker).
    Two conditional UPDATEs, so workers running it at once never count one twice."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    earlier_days = booked.filter(day__lt=local.date()).update(status=AppointmentStatus.NO_SHOW)
    cutoff = local - LATE  # slots that started before this can no longer be checked in
    today = 0
    if cutoff.date() == local.date():
        today = booked.filter(day=local.date(), slot_start__lt=cutoff.time()).update(
            status=AppointmentStatus.NO_SHOW
        )
    return earlier_days + today


# ----------------------------------------------------------------------------------- ratings

RATING_WINDOW = dt.timedelta(minutes=30)


@transaction.atomic
def rate_ticket(
    *, ticket: Ticket, level: int, comment: str = "", channel: str = "counter", now: dt.datetime | None = None
) -> Ticket:
    """好差评 after service, from the window's tablet or the ticket's QR code.

    The ticket keeps the level for the queue statistics; when the visit opened an affairs case
    that is already closed (finished on the spot), the rating goes to the engine too, so a bad
    one opens its follow-up there. A case still in progress is rated when it closes.
    """
    from shequ.workorders import services as engine
    from shequ.workorders.choices import CLOSED, RatingLevel

    if level not in RatingLevel.values:
        raise ValidationError({"level": [_("评价等级应为 1 到 5。")]})
    # (FOR UPDATE OF the ticket only: PostgreSQL refuses it on the nullable side of the case join)
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("case").get(pk=ticket.pk)
    now = now or timezone.now()
    if ticket.status != TicketStatus.DONE or ticket.finished_at is None:
        raise ValidationError({"level": [_("办理结束后才能评价。")]})
    if ticket.rating is not None:
        if ticket.rating == level:
            return ticket  # the same rating sent twice
        raise ConflictError(_("该号已评价，不能重复评价。"))
    if now - ticket.finished_at > dt.timedelta(days=7):
        raise ValidationError({"level": [_("评价已超过 7 天期限。")]})
    ticket.rating = level
    ticket.save(update_fields=["rating"])
    if ticket.case is not None and ticket.case.step == CLOSED and ticket.case.rating is None:
        engine.rate(order=ticket.case, level=level, comment=comment, channel=channel)
    transaction.on_commit(lambda: bump_display(ticket.centre_code))
    return ticket
