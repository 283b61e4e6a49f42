"""Public queue pages for residents (no login): the touch kiosk in the hall, check-in with an
appointment code, the printed ticket, following the queue on a phone, booking an appointment,
its confirmation and its cancellation.

They carry a centre code (kiosk, check-in, booking), an unguessable ticket token or an
appointment code, and show no personal data: phone numbers masked, no names, no ID numbers.
Every state change is a call into `services`; creates run once per idempotency key, so a double
tap on the kiosk gives one ticket and a double click on "book" one appointment.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shequ.affairs.models import Matter
from shequ.core.errors import ConflictError
from shequ.core.idempotency import key_from, run_once
from shequ.core.idnumbers import clean_phone, clean_resident_id
from shequ.core.masking import mask_phone
from shequ.places.models import Place
from shequ.worktime.calendar import get_calendar
from shequ.worktime.time import office_hours

from . import services
from .choices import OPEN_TICKET_STATUSES, AppointmentStatus, TicketStatus
from .forms import KioskForm
from .models import Appointment, ServiceCategory, Ticket, WindowSession

PRINT_RETURN_SECONDS = 8  # the printed ticket's page goes back to the kiosk after this long
FOLLOW_REFRESH_SECONDS = 15
PAPER_WIDTHS = (58, 80)  # thermal paper, millimetres
# The page length a ticket needs on each paper (mm). Chromium ignores `size: 80mm auto`, so the
# page gets this estimate and the page's script sets the measured length before printing.
PAGE_LENGTHS = {58: 115, 80: 130}
_CODE_RE = re.compile(f"^[{services.CODE_ALPHABET}]{{8}}$")
_PHONE4_RE = re.compile(r"^[0-9]{4}$")


# ------------------------------------------------------------------------------------ helpers


def _centre_or_404(centre_code: str) -> tuple[Place, list[ServiceCategory]]:
    """The centre and its active categories; 404 for an unknown code or a centre without any."""
    centre = get_object_or_404(Place, code=centre_code, is_active=True)
    categories = list(
        ServiceCategory.objects.filter(centre=centre, is_active=True).order_by("sort_order", "prefix")
    )
    if not categories:
        raise Http404
    return centre, categories


def _ticket_or_404(token: str) -> Ticket:
    ticket = Ticket.objects.select_related("category__centre", "window").filter(token=token).first()
    if ticket is None:
        raise Http404
    return ticket


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: dict keys on their fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _qr_svg(data: str, *, scale: int = 4) -> SafeString:
    """An inline SVG QR code (no size attributes: CSS gives its width, the viewBox its shape)."""
    svg = segno.make(data, error="m").svg_inline(scale=scale, omitsize=True, border=2)
    return mark_safe(svg)  # segno escapes `data` inside its own markup


def _normalise_code(value: str | None) -> str:
    """An appointment code as typed or scanned: full-width folded, spaces removed, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


@dataclass(frozen=True)
class CategoryRow:
    category: ServiceCategory
    waiting: int
    wait_minutes: int


def _category_rows(centre: Place, categories: list[ServiceCategory]) -> list[CategoryRow]:
    """Each category with the people waiting now and a newcomer's estimated wait (two queries)."""
    waiting = dict(
        Ticket.objects.filter(centre_code=centre.code, day=timezone.localdate(), status=TicketStatus.WAITING)
        .values_list("category")
        .annotate(n=Count("id"))
        .order_by()
    )
    staffed = dict(
        WindowSession.objects.filter(ended_at__isnull=True, window__centre=centre)
        .values_list("window__categories")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        CategoryRow(
            category=c,
            waiting=waiting.get(c.pk, 0),
            wait_minutes=services.wait_minutes(waiting.get(c.pk, 0), c.average_minutes, staffed.get(c.pk, 0)),
        )
        for c in categories
    ]


# -------------------------------------------------------------------------------------- kiosk


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, centre_code: str) -> HttpResponse:
    """The touch kiosk: pick a category, optionally leave a phone number and an ID number
    (priority from age 70) or tick the disability card, take a number."""
    centre, categories = _centre_or_404(centre_code)
    form = KioskForm(request.POST or None, centre_id=centre.pk)
    form.fields["category"].error_messages.update(
        {
            "required": _("请先选择办理业务。"),
            "invalid_choice": _("所选业务不存在或已暂停取号，请重新选择。"),
        }
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        id_number = data["id_number"]
        if id_number:
            try:
                id_number = clean_resident_id(id_number, "id_number")
            except ValidationError as exc:
                _add_errors(form, exc)
        if not form.errors:
            try:
                outcome = run_once(
                    key=key_from(request),
                    user_id=request.user.pk,
                    scope="queueing.issue",
                    action=lambda: (
                        services.issue_ticket(
                            category=data["category"],
                            phone=data["phone"],
                            id_number=id_number,
                            disabled=data["disabled"],
                        ).ticket.token
                    ),
                    encode=lambda token: token,
                    decode=str,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect(reverse("queueing:ticket", args=[outcome.value]) + "?print=1")
    chosen = request.POST.get("category", "") if request.method == "POST" else ""
    book_url = request.build_absolute_uri(reverse("queueing:book", args=[centre.code]))
    return render(
        request,
        "queueing/kiosk/kiosk.html",
        {
            "centre": centre,
            "rows": _category_rows(centre, categories),
            "form": form,
            "chosen": chosen,
            "book_qr": _qr_svg(book_url, scale=3),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, centre_code: str) -> HttpResponse:
    """预约签到 at the kiosk: the appointment code (typed or scanned from the confirmation's QR
    code) gives a priority ticket."""
    centre, _categories = _centre_or_404(centre_code)
    code = ""
    errors: list[str] = []
    if request.method == "POST":
        code = _normalise_code(request.POST.get("code"))[:16]
        if not code:
            errors = [_("请输入预约码。")]
        elif not _CODE_RE.match(code):
            errors = [_("预约码应为 8 位，由数字 2-9 和大写字母组成（不含 I、O）。")]
        elif not Appointment.objects.filter(code=code, category__centre=centre).exists():
            errors = [_("预约码不存在，请核对。")]
        else:
            try:
                issued = services.check_in(code=code)
            except ValidationError as exc:
                errors = exc.messages
            else:
                return redirect(reverse("queueing:ticket", args=[issued.ticket.token]) + "?print=1")
    return render(
        request,
        "queueing/kiosk/check_in.html",
        {"centre": centre, "code": code, "errors": errors, "alphabet": services.CODE_ALPHABET},
    )


# ------------------------------------------------------------------------- ticket and follow


def _expired(ticket: Ticket) -> bool:
    """A number is good for its day only: one still open after that day is void."""
    return ticket.status in OPEN_TICKET_STATUSES and ticket.day < timezone.localdate()


def _queue_position(ticket: Ticket) -> tuple[int, int] | None:
    """(people ahead, estimated minutes) while the ticket waits today, else None."""
    if ticket.status != TicketStatus.WAITING or _expired(ticket):
        return None
    return services.queue_position(ticket)


@never_cache
@require_GET
def ticket(request: HttpRequest, token: str) -> HttpResponse:
    """The ticket as printed on 58 mm or 80 mm thermal paper (?paper=58|80), with a screen
    preview; ?print=1 prints at once and goes back to the kiosk."""
    ticket = _ticket_or_404(token)
    paper = 58 if request.GET.get("paper") == "58" else 80
    position = _queue_position(ticket)
    follow_url = request.build_absolute_uri(reverse("queueing:follow", args=[ticket.token]))
    return render(
        request,
        "queueing/kiosk/ticket.html",
        {
            "ticket": ticket,
            "centre": ticket.category.centre,
            "paper": paper,
            "page_length": PAGE_LENGTHS[paper],
            "papers": PAPER_WIDTHS,
            "position": position,
            "qr": _qr_svg(follow_url, scale=4),
            "auto_print": request.GET.get("print") == "1",
            "return_ms": PRINT_RETURN_SECONDS * 1000,
            "kiosk_url": reverse("queueing:kiosk", args=[ticket.category.centre.code]),
        },
    )


@never_cache
@require_GET
def follow(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's phone after scanning the ticket: where the number stands, refreshed every
    15 seconds (htmx swaps the status fragment; without JS a meta refresh reloads)."""
    ticket = _ticket_or_404(token)
    expired = _expired(ticket)
    context = {
        "ticket": ticket,
        "position": _queue_position(ticket),
        "expired": expired,
        "live": ticket.status in OPEN_TICKET_STATUSES and not expired,
        "refresh_seconds": FOLLOW_REFRESH_SECONDS,
        "rate_url": (
            reverse("queueing:rate", args=[ticket.token])
            if ticket.status == TicketStatus.DONE and ticket.rating is None
            else ""
        ),
    }
    if request.headers.get("HX-Request"):
        return render(request, "queueing/kiosk/_follow_status.html", context)
    return render(request, "queueing/kiosk/follow.html", context)


# ------------------------------------------------------------------------------ appointments


def _booking_days() -> list[dt.date]:
    """Tomorrow and the following days, up to services.BOOKING_DAYS ahead, that offer slots: the working
    days (what `services.slots` checks), read from one calendar snapshot instead of a query per day."""
    if not office_hours():
        return []
    calendar = get_calendar()
    today = timezone.localdate()
    days = (today + dt.timedelta(days=n) for n in range(1, services.BOOKING_DAYS + 1))
    return [day for day in days if calendar.is_working_day(day)]


@dataclass(frozen=True)
class SlotRow:
    start: dt.time
    end: dt.time
    left: int

    @property
    def value(self) -> str:
        return self.start.strftime("%H:%M")


def _slot_rows(category: ServiceCategory, day: dt.date) -> list[SlotRow]:
    step = dt.timedelta(minutes=category.slot_minutes)
    return [
        SlotRow(start=start, end=(dt.datetime.combine(day, start) + step).time(), left=left)
        for start, left in services.slots(category, day)
    ]


class BookForm(forms.Form):
    """The booking form; the service checks the day, the slot and its capacity again."""

    category = forms.ModelChoiceField(
        label=gettext_lazy("服务类别"),
        queryset=ServiceCategory.objects.none(),
        error_messages={
            "required": gettext_lazy("请选择服务类别。"),
            "invalid_choice": gettext_lazy("所选服务类别不存在，请重新选择。"),
        },
    )
    matter = forms.ModelChoiceField(
        label=gettext_lazy("办理事项（选填）"),
        queryset=Matter.objects.none(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("所选事项不存在，请重新选择。")},
    )
    day = forms.DateField(
        label=gettext_lazy("预约日期"),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": gettext_lazy("请选择预约日期。"),
            "invalid": gettext_lazy("预约日期格式不正确。"),
        },
    )
    slot_start = forms.TimeField(
        label=gettext_lazy("预约时段"),
        input_formats=["%H:%M"],
        error_messages={
            "required": gettext_lazy("请选择预约时段。"),
            "invalid": gettext_lazy("预约时段格式不正确。"),
        },
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"), max_length=50, error_messages={"required": gettext_lazy("请填写姓名。")}
    )
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=20,
        error_messages={"required": gettext_lazy("请填写手机号码，用于接收预约码短信。")},
    )

    def __init__(self, *args: Any, categories: list[ServiceCategory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [c.pk for c in categories]
        self.fields["category"].queryset = ServiceCategory.objects.filter(  # type: ignore[attr-defined]
            pk__in=ids
        )
        self.fields["matter"].queryset = Matter.objects.filter(  # type: ignore[attr-defined]
            service_categories__in=ids, is_active=True
        ).distinct()

    def clean_phone(self) -> str:
        try:
            return clean_phone(self.cleaned_data["phone"], "phone")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phone"]) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        category, matter = data.get("category"), data.get("matter")
        if category is not None and matter is not None and not category.matters.filter(pk=matter.pk).exists():
            self.add_error("matter", _("所选事项不属于“%(name)s”，请重新选择。") % {"name": category.name})
        return data


def _pick_category(categories: list[ServiceCategory], raw: str | None) -> ServiceCategory:
    by_id = {str(c.pk): c for c in categories}
    return by_id.get(raw or "", categories[0])


def _pick_day(days: list[dt.date], raw: str | None, *, fallback: bool) -> dt.date | None:
    """The requested day if it is offered; else the first offered day when `fallback`."""
    try:
        day: dt.date | None = dt.date.fromisoformat(raw or "")
    except ValueError:
        day = None
    if day in days:
        return day
    return days[0] if fallback and days else None


@never_cache
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, centre_code: str) -> HttpResponse:
    """预约: a category (and optionally a matter), a day, a slot with places left, name and phone."""
    centre, categories = _centre_or_404(centre_code)
    matters = Prefetch(
        "matters", queryset=Matter.objects.filter(is_active=True).order_by("sort_order", "code")
    )
    categories = list(
        ServiceCategory.objects.filter(pk__in=[c.pk for c in categories])
        .order_by("sort_order", "prefix")
        .prefetch_related(matters)
    )
    refresh = request.method == "POST" and "refresh" in request.POST  # no-JS: show another day's slots
    if refresh:
        keep = {name: request.POST.get(name, "") for name in ("matter", "name", "phone")}
        form = BookForm(initial=keep, categories=categories)
    else:
        form = BookForm(request.POST or None, categories=categories)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = run_once(
                key=key_from(request),
                user_id=request.user.pk,
                scope="queueing.book",
                action=lambda: (
                    services.book(
                        category=data["category"],
                        day=data["day"],
                        slot_start=data["slot_start"],
                        name=data["name"],
                        phone=data["phone"],
                        matter=data["matter"],
                    ).code
                ),
                encode=lambda code: code,
                decode=str,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("预约成功，预约码已发送到您的手机。"))
            return redirect("queueing:appointment", appointment_code=outcome.value)
    source = request.POST if request.method == "POST" else request.GET
    category = _pick_category(categories, source.get("category"))
    days = _booking_days()
    # A posted day that is not offered stays unselected (its error says why).
    day = _pick_day(days, source.get("day"), fallback=not form.is_bound)
    return render(
        request,
        "queueing/kiosk/book.html",
        {
            "centre": centre,
            "categories": categories,
            "category": category,
            "days": days,
            "day": day,
            "slots": _slot_rows(category, day) if day else [],
            "slot_value": source.get("slot_start", ""),
            "form": form,
            "booking_days": services.BOOKING_DAYS,
        },
    )


@never_cache
@require_GET
def book_slots(request: HttpRequest, centre_code: str) -> HttpResponse:
    """The slots of a category on a day with the places left (htmx swaps them into the form)."""
    _centre, categories = _centre_or_404(centre_code)
    category = {str(c.pk): c for c in categories}.get(request.GET.get("category", ""))
    message = ""
    day: dt.date | None = None
    rows: list[SlotRow] = []
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        message = _("请先选择预约日期。")
    if category is None:
        message = _("请先选择服务类别。")
    elif day is not None:
        today = timezone.localdate()
        if day <= today or day > today + dt.timedelta(days=services.BOOKING_DAYS):
            message = _("请选择明天起 %(days)d 天以内的日期。") % {"days": services.BOOKING_DAYS}
        else:
            rows = _slot_rows(category, day)
            if not rows:
                message = _("该日不办理预约，请选择其他日期。")
    return render(
        request,
        "queueing/kiosk/_slots.html",
        {"slots": rows, "message": message, "slot_value": request.GET.get("slot_start", "")},
    )


def _appointment_or_404(code: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("category__centre", "matter")
        .filter(code=_normalise_code(code))
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


@never_cache
@require_GET
def appointment(request: HttpRequest, appointment_code: str) -> HttpResponse:
    """The booking's confirmation: the code (large and as a QR code for the kiosk's scanner)."""
    appointment = _appointment_or_404(appointment_code)
    start = timezone.make_aware(dt.datetime.combine(appointment.day, appointment.slot_start))
    return render(
        request,
        "queueing/kiosk/appointment.html",
        {
            "appointment": appointment,
            "centre": appointment.category.centre,
            "phone": mask_phone(appointment.phone),
            "qr": _qr_svg(appointment.code, scale=6),
            "check_in_from": start - services.EARLY,
            "check_in_until": start + services.LATE,
            "booked": appointment.status == AppointmentStatus.BOOKED,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel a booking with its code and the last four digits of the phone it was booked with."""
    code = _normalise_code(request.GET.get("code"))[:16]
    errors: dict[str, list[str]] = {}
    conflict = ""
    if request.method == "POST":
        code = _normalise_code(request.POST.get("code"))[:16]
        last4 = unicodedata.normalize("NFKC", request.POST.get("phone4", "")).strip()
        if not code:
            errors["code"] = [_("请输入预约码。")]
        if not _PHONE4_RE.match(last4):
            errors["phone4"] = [_("手机号后四位应为 4 位数字。")]
        if not errors:
            try:
                outcome = run_once(
                    key=key_from(request),
                    user_id=request.user.pk,
                    scope="queueing.cancel",
                    action=lambda: services.cancel_appointment(code=code, phone_last4=last4).code,
                    encode=lambda value: value,
                    decode=str,
                )
            except ConflictError as exc:
                conflict = " ".join(exc.messages)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"code": exc.messages}
            else:
                messages.success(request, _("预约已取消，名额已释放。"))
                return redirect("queueing:appointment", appointment_code=outcome.value)
    return render(
        request, "queueing/kiosk/cancel.html", {"code": code, "errors": errors, "conflict": conflict}
    )
