"""Public tracking of a case (条形码受理状况全程跟踪): by its number and the last four digits of the
applicant's phone, without signing in.

The page (`tracking_urls`) and the API (`tracking_api`) share everything here: the input
validation, the lookup, the guessing brake and the public view of a case. The public view holds
no personal data: no names, no phone or ID numbers, no staff names, no comments.

Guessing brake, per client IP (REMOTE_ADDR; behind a proxy the proxy must pass the real address
there): at most `FAILED_LIMIT` failed lookups per `FAILED_WINDOW` seconds and `TOTAL_LIMIT` lookups
per `TOTAL_WINDOW` seconds. The counters live in Django's cache; a window starts with the first
counted lookup (`cache.add`) and every lookup is counted with an atomic `cache.incr`. A failed-
lookup slot is reserved *before* the lookup and given back on success, so concurrent guesses
cannot slip past the limit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.workorders.choices import EventKind
from shequ.workorders.models import WorkOrder, WorkOrderEvent

from .models import Case

NOT_FOUND_MESSAGE = _("未找到该办件，请核对编号和手机号后四位。")
RATE_LIMITED_MESSAGE = _("查询过于频繁，请稍后再试。")

FAILED_LIMIT = 10
FAILED_WINDOW = 10 * 60
TOTAL_LIMIT = 60
TOTAL_WINDOW = 60 * 60

_NUMBER_RE = re.compile(r"^[A-Z0-9-]{4,24}$")
_PHONE4_RE = re.compile(r"^[0-9]{4}$")

# Timeline entries the applicant sees. Internal housekeeping (notes, attachments, assignment,
# warnings and reminders to staff, ratings) stays inside.
PUBLIC_EVENT_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.ACCEPTED,
        EventKind.ADVANCED,
        EventKind.PAUSED,
        EventKind.RESUMED,
        EventKind.RETURNED,
        EventKind.COMPLETED,
        EventKind.DELIVERED,
        EventKind.REOPENED,
        EventKind.CANCELLED,
        EventKind.DEADLINE_CHANGED,
    }
)


class RateLimited(Exception):
    """Too many lookups from one client; answer 429 with `RATE_LIMITED_MESSAGE`."""

    message = RATE_LIMITED_MESSAGE


# --------------------------------------------------------------------------- input


def normalise_number(value: str | None) -> str:
    """A case number as typed or scanned: full-width forms folded, whitespace removed, upper-cased."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def clean_query(number: str | None, phone_last4: str | None) -> tuple[str, str]:
    """The normalised (number, last four digits), or a ValidationError naming each bad field
    (``number`` / ``phone4``)."""
    number = normalise_number(number)
    phone_last4 = unicodedata.normalize("NFKC", phone_last4 or "").strip()
    errors: dict[str, list[str | Promise]] = {}
    if not number:
        errors["number"] = [_("请输入办件编号。")]
    elif not _NUMBER_RE.match(number):
        errors["number"] = [_("办件编号格式不正确，例如 SW20261123-0001。")]
    if not phone_last4:
        errors["phone4"] = [_("请输入手机号后四位。")]
    elif not _PHONE4_RE.match(phone_last4):
        errors["phone4"] = [_("手机号后四位应为 4 位数字。")]
    if errors:
        raise ValidationError(errors)
    return number, phone_last4


def find_case(number: str, phone_last4: str) -> Case | None:
    """The case with this public number whose applicant's phone ends in `phone_last4`, else None.

    Raises ValidationError (naming ``number`` or ``phone4``) on malformed input. A wrong number and
    a wrong phone give the same None, after the same single query.
    """
    number, phone_last4 = clean_query(number, phone_last4)
    case = Case.objects.select_related("order", "matter").filter(order__number=number).first()
    # Compare even when there is no case, so both failures take the same path.
    stored = re.sub(r"[^0-9]", "", case.phone)[-4:] if case else "----"
    matches = hmac.compare_digest(stored.encode(), phone_last4.encode())
    return case if case is not None and matches else None


# --------------------------------------------------------------------------- guessing brake


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _bump(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.add(key, 0, timeout=window)
        return cache.incr(key)


def _keys(ip: str) -> tuple[str, str]:
    return f"track:fail:{ip}", f"track:total:{ip}"


def begin_lookup(ip: str) -> None:
    """Count a lookup from `ip` and reserve a failure slot; raise RateLimited over either limit.

    Call `lookup_succeeded(ip)` after a successful lookup to give the failure slot back."""
    fail_key, total_key = _keys(ip)
    if _bump(total_key, TOTAL_WINDOW) > TOTAL_LIMIT:
        raise RateLimited
    if _bump(fail_key, FAILED_WINDOW) > FAILED_LIMIT:
        raise RateLimited


def lookup_succeeded(ip: str) -> None:
    fail_key, _total = _keys(ip)
    with contextlib.suppress(ValueError):  # the window has expired meanwhile: nothing to give back
        cache.decr(fail_key)


def lookup(request: HttpRequest, number: str | None, phone_last4: str | None) -> Case | None:
    """The page's and the API's lookup: validate (ValidationError), brake (RateLimited), find."""
    number, phone_last4 = clean_query(number, phone_last4)
    ip = client_ip(request)
    begin_lookup(ip)
    case = find_case(number, phone_last4)
    if case is not None:
        lookup_succeeded(ip)
    return case


# --------------------------------------------------------------------------- public view


@dataclass(frozen=True)
class PublicEvent:
    kind: str
    label: str
    at: dt.datetime
    step_from: str
    step_from_label: str
    step_to: str
    step_to_label: str
    note: str = ""


@dataclass(frozen=True)
class PublicStatus:
    number: str
    matter: str
    step: str
    step_label: str
    status: str
    status_label: str
    due_at: dt.datetime | None
    due_provisional: bool
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    history: list[PublicEvent] = field(default_factory=list)


def _step_label(order: WorkOrder, step: str) -> str:
    if not step:
        return ""
    try:
        return str(order.process.step_label(step))
    except KeyError:
        return ""


def _event_note(order: WorkOrder, event: WorkOrderEvent) -> str:
    """A public note for an event: only the pause reason's label (never the clerk's comment)."""
    if event.kind == EventKind.PAUSED:
        reason = (event.data or {}).get("reason", "")
        label = order.process.pause_reasons.get(reason)
        return str(label) if label else ""
    return ""


def public_status(case: Case) -> PublicStatus:
    """What anyone holding the number and the phone digits may see of `case`."""
    order = case.order
    events = [e for e in order.events.all() if e.kind in PUBLIC_EVENT_KINDS]
    return PublicStatus(
        number=order.number,
        matter=case.matter.name,
        step=order.step,
        step_label=_step_label(order, order.step),
        status=order.status,
        status_label=str(order.get_status_display()),
        due_at=None if order.is_closed else order.due_at,
        due_provisional=bool(order.due_provisional) and not order.is_closed,
        accepted_at=case.accepted_at,
        closed_at=order.closed_at,
        history=[
            PublicEvent(
                kind=e.kind,
                label=str(e.get_kind_display()),
                at=e.created_at,
                step_from=e.step_from,
                step_from_label=_step_label(order, e.step_from),
                step_to=e.step_to,
                step_to_label=_step_label(order, e.step_to),
                note=_event_note(order, e),
            )
            for e in events
        ],
    )
