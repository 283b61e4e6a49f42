"""Pages of the centre's staff: the centres overview, a window's console (sign in, call, recall,
start, finish, no-show, transfer, open a case) and the day's appointments.

Every page is limited to the centres in the user's jurisdiction as a desk role or a leader; a
window outside it answers 404. The state changes are the services' (services.py); the views
turn their refusals into messages and go back to the console (POST-redirect-GET).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from shequ.accounts.choices import Role
from shequ.accounts.scoping import jurisdiction
from shequ.core.actions import form_errors_as_messages
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_name, mask_phone
from shequ.places.models import Place

from . import services
from .choices import AppointmentStatus, TicketStatus
from .forms import TransferForm
from .models import Appointment, ServiceCategory, Ticket, Window, WindowSession

STAFF_ROLES = frozenset(services.DESK_ROLES | {Role.LEADER})
MAX_CENTRES = 50
WAITING_SHOWN = 10
MAX_APPOINTMENTS = 200
HELD_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)
ACTIONS = frozenset({"signin", "signout", "call", "recall", "no_show", "start", "finish", "transfer"})
TICKET_ACTIONS = {
    "recall": (services.recall, gettext_lazy("已重呼 %(number)s。")),
    "no_show": (services.mark_no_show, gettext_lazy("%(number)s 已过号。")),
    "start": (services.start_service, gettext_lazy("%(number)s 开始办理。")),
    "finish": (services.finish_service, gettext_lazy("%(number)s 已办结。")),
}


# ---------------------------------------------------------------------------------- scope


def _prefixes(user: Any) -> list[str] | None:
    """Place-code prefixes of the centres the user works at or leads; None for a superuser."""
    if user.is_superuser:
        return None
    return jurisdiction(user, STAFF_ROLES)


def _within(field: str, prefixes: list[str]) -> Q:
    """`field` lies under one of `prefixes` (an empty list matches nothing)."""
    if not prefixes:
        return Q(pk__in=[])
    condition = Q(**{f"{field}__within": prefixes[0]})
    for prefix in prefixes[1:]:
        condition |= Q(**{f"{field}__within": prefix})
    return condition


def _scoped_centres(user: Any) -> list[Place]:
    """Centres (places with windows) in the user's jurisdiction, at most MAX_CENTRES + 1."""
    prefixes = _prefixes(user)
    if prefixes is not None and not prefixes:
        raise PermissionDenied
    centres = Place.objects.filter(Exists(Window.objects.filter(centre=OuterRef("pk"))))
    if prefixes is not None:
        centres = centres.filter(_within("code", prefixes))
    return list(centres.order_by("code")[: MAX_CENTRES + 1])


def _window_or_404(user: Any, pk: int) -> Window:
    """A window of a centre in the user's jurisdiction; 404 for others and for missing ones."""
    windows = Window.objects.select_related("centre")
    prefixes = _prefixes(user)
    if prefixes is not None:
        windows = windows.filter(_within("centre__code", prefixes))
    return get_object_or_404(windows, pk=pk)


def _centre_links(code: str) -> dict[str, str]:
    links = {"display": reverse("queueing:display", kwargs={"centre_code": code})}
    for name in ("kiosk", "book"):
        try:
            links[name] = reverse(f"queueing:{name}", kwargs={"centre_code": code})
        except NoReverseMatch:  # pragma: no cover - routes are fixed in urls.py
            links[name] = ""
    return links


# ---------------------------------------------------------------------------------- overview


@login_required
@require_GET
def index(request: AuthedRequest) -> HttpResponse:
    """The centres in the user's jurisdiction: each window, who sits there, what it serves."""
    centres = _scoped_centres(request.user)
    capped = len(centres) > MAX_CENTRES
    centres = centres[:MAX_CENTRES]
    today = timezone.localdate()
    windows = list(
        Window.objects.filter(centre__in=centres)
        .prefetch_related("categories")
        .order_by("centre_id", "number")
    )
    sessions = {
        s.window_id: s
        for s in WindowSession.objects.filter(window__in=windows, ended_at__isnull=True).select_related(
            "clerk"
        )
    }
    current = {
        t.window_id: t
        for t in Ticket.objects.filter(
            window__in=windows, status__in=[TicketStatus.CALLED, TicketStatus.SERVING]
        )
        .order_by("called_at", "id")
        .only("pk", "number", "status", "window_id", "called_at")
    }
    categories = list(
        ServiceCategory.objects.filter(centre__in=centres, is_active=True).order_by(
            "centre_id", "sort_order", "prefix"
        )
    )
    counts: dict[int, int] = dict(
        Ticket.objects.filter(
            centre_code__in=[c.code for c in centres], day=today, status=TicketStatus.WAITING
        )
        .values_list("category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    mine = (
        WindowSession.objects.filter(clerk=request.user, ended_at__isnull=True)
        .select_related("window__centre")
        .first()
    )
    rows = []
    for centre in centres:
        rows.append(
            {
                "centre": centre,
                "links": _centre_links(centre.code),
                "windows": [
                    {
                        "window": w,
                        "categories": list(w.categories.all()),
                        "session": sessions.get(w.pk),
                        "ticket": current.get(w.pk),
                        "tablet": reverse(
                            "queueing:tablet", kwargs={"centre_code": centre.code, "window_number": w.number}
                        ),
                    }
                    for w in windows
                    if w.centre_id == centre.pk
                ],
                "waiting": [(c, counts.get(c.pk, 0)) for c in categories if c.centre_id == centre.pk],
            }
        )
    return render(
        request,
        "queueing/console/index.html",
        {"centres": rows, "capped": capped, "max_centres": MAX_CENTRES, "my_session": mine},
    )


# ---------------------------------------------------------------------------------- console


def _current_ticket(window: Window) -> Ticket | None:
    return (
        Ticket.objects.filter(window=window, status__in=[TicketStatus.CALLED, TicketStatus.SERVING])
        .select_related("category", "clerk", "case")
        .order_by("-called_at", "-id")
        .first()
    )


def _waiting(window: Window, day: dt.date) -> tuple[list[Ticket], int]:
    """The next tickets this window would call, in call order, and how many wait in all."""
    queue = services.call_order(window, day)
    upcoming = list(queue.select_related("category")[:WAITING_SHOWN])
    total = len(upcoming) if len(upcoming) < WAITING_SHOWN else queue.count()
    return upcoming, total


def _today_counts(window: Window, day: dt.date) -> dict[str, Any]:
    """Served and no-show tickets of the day at this window, and the average service minutes
    (from the start of service, or from the call when service was not started separately)."""
    served = no_show = 0
    minutes: list[float] = []
    for status, called_at, started_at, finished_at in Ticket.objects.filter(
        window=window, day=day, status__in=[TicketStatus.DONE, TicketStatus.NO_SHOW]
    ).values_list("status", "called_at", "started_at", "finished_at"):
        if status == TicketStatus.NO_SHOW:
            no_show += 1
            continue
        served += 1
        begin = started_at or called_at
        if begin is not None and finished_at is not None:
            minutes.append((finished_at - begin).total_seconds() / 60)
    average = round(sum(minutes) / len(minutes), 1) if minutes else None
    return {"served": served, "no_show": no_show, "average_minutes": average}


def _waiting_context(window: Window) -> dict[str, Any]:
    today = timezone.localdate()
    upcoming, total = _waiting(window, today)
    now = timezone.now()
    return {
        "window": window,
        "waiting": [
            {"ticket": t, "minutes": max(0, int((now - t.created_at).total_seconds() // 60))}
            for t in upcoming
        ],
        "waiting_total": total,
        "waiting_shown": WAITING_SHOWN,
    }


@login_required
@require_GET
def window(request: AuthedRequest, pk: int) -> HttpResponse:
    """The clerk's console at one window."""
    win = _window_or_404(request.user, pk)
    if request.GET.get("part") == "waiting":  # the list refreshes itself (htmx)
        return render(request, "queueing/console/_waiting.html", _waiting_context(win))
    session = WindowSession.objects.filter(window=win, ended_at__isnull=True).select_related("clerk").first()
    signed_in = session is not None and session.clerk_id == request.user.pk
    elsewhere = None
    if not signed_in:
        elsewhere = (
            WindowSession.objects.filter(clerk=request.user, ended_at__isnull=True)
            .exclude(window=win)
            .select_related("window")
            .first()
        )
    ticket = _current_ticket(win)
    context: dict[str, Any] = {
        "window": win,
        "centre": win.centre,
        "categories": list(win.categories.all()),
        "session": session,
        "signed_in": signed_in,
        "elsewhere": elsewhere,
        "ticket": ticket,
        "today": _today_counts(win, timezone.localdate()),
        "links": _centre_links(win.centre.code),
        "tablet_url": reverse(
            "queueing:tablet", kwargs={"centre_code": win.centre.code, "window_number": win.number}
        ),
        **_waiting_context(win),
    }
    if ticket is not None:
        context.update(
            {
                "masked_phone": mask_phone(ticket.phone),
                "ticket_is_mine": ticket.clerk_id == request.user.pk,
                "transfer_form": _transfer_form(win, ticket),
                "desk_url": reverse("affairs:desk") + "?" + urlencode({"ticket": ticket.token}),
                "case_url": (
                    reverse("affairs:case", kwargs={"number": ticket.case.number}) if ticket.case else ""
                ),
            }
        )
    return render(request, "queueing/console/window.html", context)


def _transfer_form(win: Window, ticket: Ticket) -> TransferForm:
    form = TransferForm(centre_id=win.centre_id, exclude_id=ticket.category_id)
    form.fields["category"].empty_label = _("— 选择类别 —")  # type: ignore[attr-defined]
    return form


def _posted_ticket(request: AuthedRequest, win: Window) -> Ticket | None:
    """The ticket the console showed (its id is posted, so a stale page cannot act on another
    ticket), else the window's current one."""
    raw = request.POST.get("ticket", "")
    if raw.isdigit():
        return (
            Ticket.objects.select_related("category", "window")
            .filter(pk=int(raw), centre_code=win.centre.code)
            .first()
        )
    return _current_ticket(win)


def _sign_in(request: AuthedRequest, win: Window) -> None:
    services.sign_in(window=win, clerk=request.user)
    messages.success(request, _("已在 %(number)s 号窗口签入。") % {"number": win.number})


def _sign_out(request: AuthedRequest, win: Window) -> None:
    session = WindowSession.objects.filter(window=win, clerk=request.user, ended_at__isnull=True).first()
    if session is None:
        messages.info(request, _("您未在 %(number)s 号窗口签入。") % {"number": win.number})
        return
    services.sign_out(session=session)
    messages.success(request, _("已从 %(number)s 号窗口签出。") % {"number": win.number})


def _call(request: AuthedRequest, win: Window) -> None:
    outcome = run_once(
        key=key_from(request),
        user_id=request.user.pk,
        scope=f"queueing.call:{win.pk}",
        action=lambda: services.call_next(window=win, clerk=request.user),
        encode=lambda ticket: ticket.pk if ticket is not None else None,
        decode=lambda stored: Ticket.objects.filter(pk=stored).first() if stored else None,
    )
    if outcome.value is None:
        messages.info(request, _("当前没有等候的号。"))
    else:
        messages.success(
            request,
            _("已叫号 %(number)s。") % {"number": outcome.value.number},
        )


def _ticket_action(request: AuthedRequest, win: Window, action: str) -> None:
    ticket = _posted_ticket(request, win)
    if ticket is None:
        messages.error(request, _("%(number)s 号窗口当前没有已叫的号。") % {"number": win.number})
        return
    if action == "transfer":
        form = TransferForm(request.POST, centre_id=win.centre_id, exclude_id=ticket.category_id)
        if not form.is_valid():
            form_errors_as_messages(request, form)
            return
        category = form.cleaned_data["category"]
        services.transfer(ticket=ticket, clerk=request.user, category=category)
        messages.success(
            request,
            _("%(number)s 已转到“%(category)s”，按原取号时间排队。")
            % {"number": ticket.number, "category": category.name},
        )
        return
    service, success = TICKET_ACTIONS[action]
    moved = service(ticket=ticket, clerk=request.user)
    messages.success(request, str(success) % {"number": moved.number})


@login_required
@require_POST
def window_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One button of the console; always back to the console with a message."""
    if action not in ACTIONS:
        raise Http404
    win = _window_or_404(request.user, pk)
    try:
        if action == "signin":
            _sign_in(request, win)
        elif action == "signout":
            _sign_out(request, win)
        elif action == "call":
            _call(request, win)
        else:
            _ticket_action(request, win, action)
    except ValidationError as exc:  # ConflictError included
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("您没有执行此操作的权限。"))
    return redirect("queueing:window", pk=win.pk)


# ---------------------------------------------------------------------------------- appointments


class AppointmentFilter(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("服务类别"),
        queryset=ServiceCategory.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部类别"),
    )
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)

    def __init__(self, *args: Any, categories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]
        self.fields["status"].choices = [("", _("全部状态")), *AppointmentStatus.choices]  # type: ignore[attr-defined]


@login_required
@require_GET
def appointments(request: AuthedRequest) -> HttpResponse:
    """The appointments of a day at the centres in the user's jurisdiction, names and phones
    masked; at most MAX_APPOINTMENTS rows."""
    prefixes = _prefixes(request.user)
    if prefixes is not None and not prefixes:
        raise PermissionDenied
    categories = ServiceCategory.objects.select_related("centre").order_by(
        "centre__code", "sort_order", "prefix"
    )
    if prefixes is not None:
        categories = categories.filter(_within("centre__code", prefixes))
    day = timezone.localdate()
    form = AppointmentFilter(request.GET or None, categories=categories, initial={"day": day})
    category = status = None
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["day"] or day
        category = form.cleaned_data["category"]
        status = form.cleaned_data["status"] or None
    queryset = Appointment.objects.filter(day=day, category__in=categories).select_related("category__centre")
    if category is not None:
        queryset = queryset.filter(category=category)
    if status:
        queryset = queryset.filter(status=status)
    found = list(queryset.order_by("slot_start", "created_at", "id")[: MAX_APPOINTMENTS + 1])
    capped = len(found) > MAX_APPOINTMENTS
    rows = [
        {
            "appointment": a,
            "end": a.slot_end(),
            "name": mask_name(a.name),
            "phone": mask_phone(a.phone),
        }
        for a in found[:MAX_APPOINTMENTS]
    ]
    centres = {a.category.centre_id for a in found}
    return render(
        request,
        "queueing/console/appointments.html",
        {
            "form": form,
            "day": day,
            "rows": rows,
            "capped": capped,
            "max_rows": MAX_APPOINTMENTS,
            "several_centres": len(centres) > 1,
        },
    )
