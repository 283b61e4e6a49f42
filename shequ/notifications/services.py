"""Writing to the outbox and delivering from it; reading state of the in-app inbox.

`notify` is called inside the transaction of the change that causes the message (it opens its
own `atomic()` so it also works alone): the rows commit or roll back with that change. The worker
calls `deliver_pending` in its loop; several workers may run at once on PostgreSQL, each claiming
different rows with ``SELECT ... FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from . import templates
from .backends import ChannelBackend, get_backend
from .choices import Channel, OutboxStatus
from .models import DEDUPE_KEY_MAX_LENGTH, InAppNotification, OutboxMessage

if TYPE_CHECKING:
    from shequ.accounts.models import User

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; the MAX_ATTEMPTS-th failure is final.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(minutes=120),
    timedelta(minutes=360),
)
MAX_ATTEMPTS = 6
# A row in `sending` for longer than this belongs to a worker that died.
SENDING_LEASE = timedelta(minutes=10)
LAST_ERROR_MAX = 2000


# --- writing ------------------------------------------------------------------------------------


def _address(channel: str, user: User | None, phone: str | None, email: str | None) -> str | None:
    """Where `channel` delivers to, or None when there is nowhere (the channel is skipped)."""
    if channel == Channel.INAPP:
        return "" if user is not None else None
    if channel == Channel.SMS:
        value = phone or (getattr(user, "phone", "") if user is not None else "")
    elif channel == Channel.EMAIL:
        value = email or (getattr(user, "email", "") if user is not None else "")
    else:
        raise ValueError(f"unknown notification channel {channel!r}")
    value = (value or "").strip()
    return value or None


def _check_link(link: str) -> str:
    if link and not (link.startswith("/") and not link.startswith("//")):
        raise ValueError(f"notification link {link!r} must be a path on this site, e.g. /workorders/1/")
    return link


def _queued(dedupe_key: str) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()


def notify(
    *,
    template: str,
    context: Mapping[str, Any],
    user: User | None = None,
    phone: str | None = None,
    email: str | None = None,
    channels: Sequence[str] = (Channel.INAPP, Channel.SMS),
    dedupe_key: str | None = None,
    place_code: str = "",
    link: str = "",
) -> list[OutboxMessage]:
    """Queue one message per channel that has an address; returns the rows (new or, for a
    `dedupe_key` seen before, the existing ones).

    Addresses: in-app needs `user`; SMS `phone` or ``user.phone``; e-mail `email` or
    ``user.email``. A channel without one is skipped. `link` (a path on this site) is what the
    in-app notification points to; it is kept in the stored context as ``link``.
    Raises ValueError for an unknown template slug or channel, or a naive datetime in `context`.
    """
    subject, body = templates.render(template, context)  # unknown slug: ValueError, nothing written
    stored = templates.to_json_context(context)
    if link:
        stored["link"] = _check_link(link)
    elif isinstance(stored.get("link"), str):
        _check_link(stored["link"])
    if dedupe_key is not None and len(dedupe_key) + len(":inapp") > DEDUPE_KEY_MAX_LENGTH:
        raise ValueError(f"dedupe_key is longer than {DEDUPE_KEY_MAX_LENGTH - len(':inapp')} characters")

    wanted: list[tuple[str, str]] = []
    for channel in dict.fromkeys(str(c) for c in channels):  # keep order, drop repeats
        address = _address(channel, user, phone, email)
        if address is not None:
            wanted.append((channel, address))

    now = timezone.now()
    rows: list[OutboxMessage] = []
    with transaction.atomic():
        for channel, address in wanted:
            key = f"{dedupe_key}:{channel}" if dedupe_key is not None else None
            if key is not None and (existing := _queued(key)) is not None:
                rows.append(existing)
                continue
            message = OutboxMessage(
                channel=channel,
                recipient_user=user,
                address=address,
                template=template,
                context=stored,
                subject=subject[:200],
                body=body,
                next_attempt_at=now,
                created_at=now,
                dedupe_key=key,
                place_code=place_code,
            )
            try:
                with transaction.atomic():  # a savepoint: a lost race must not poison the caller
                    message.save(force_insert=True)
            except IntegrityError:
                if key is None:
                    raise
                rows.append(OutboxMessage.objects.get(dedupe_key=key))
            else:
                rows.append(message)
    return rows


def cancel(*, dedupe_key: str) -> int:
    """Cancel the still pending messages of one logical notification (every channel).

    For a reminder queued ahead that no longer applies. Returns the number cancelled.
    """
    keys = [f"{dedupe_key}:{channel}" for channel in Channel.values]
    return OutboxMessage.objects.filter(dedupe_key__in=keys, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.CANCELLED
    )


def retry_failed(*, message_ids: Iterable[int], now: datetime | None = None) -> int:
    """Put failed messages back in the queue for one more attempt (the admin's "重新发送")."""
    return OutboxMessage.objects.filter(pk__in=list(message_ids), status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, next_attempt_at=now or timezone.now(), claimed_at=None
    )


# --- delivering ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def recover_stuck(*, now: datetime | None = None) -> int:
    """Rows left in `sending` longer than the lease: their worker died. They go back to the queue,
    counted as a failed attempt (so a message that kills the worker every time gives up)."""
    now = now or timezone.now()
    stuck = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - SENDING_LEASE)
    error = "worker lost while sending (lease expired)"
    given_up = stuck.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=OutboxStatus.FAILED, attempts=F("attempts") + 1, claimed_at=None, last_error=error
    )
    requeued = stuck.update(
        status=OutboxStatus.PENDING,
        attempts=F("attempts") + 1,
        claimed_at=None,
        next_attempt_at=now,
        last_error=error,
    )
    if given_up or requeued:
        logger.warning("outbox: recovered %d stuck messages, %d given up", requeued, given_up)
    return given_up + requeued


def _claim(*, limit: int, now: datetime) -> list[OutboxMessage]:
    """Mark up to `limit` due rows `sending` in one short transaction and return them."""
    with transaction.atomic():
        due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        # On SQLite (one worker; IMMEDIATE transactions serialise writers) a plain select.
        rows = list(due[:limit])
        if not rows:
            return []
        OutboxMessage.objects.filter(pk__in=[m.pk for m in rows], status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=now
        )
    for message in rows:
        message.status, message.claimed_at = OutboxStatus.SENDING, now
    return rows


def _deliver_one(message: OutboxMessage, backend: ChannelBackend, clock: Callable[[], datetime]) -> bool:
    # Only the claim we hold may be settled: after a lease expiry another worker may own the row.
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claimed_at=message.claimed_at
    )
    try:
        backend.send(message)
    except Exception as exc:
        attempts = message.attempts + 1
        error = f"{type(exc).__name__}: {exc}"[:LAST_ERROR_MAX]
        if attempts >= MAX_ATTEMPTS:
            updated = mine.update(
                status=OutboxStatus.FAILED, attempts=attempts, last_error=error, claimed_at=None
            )
            logger.error(
                "outbox #%s (%s) failed for good after %d attempts: %s",
                message.pk,
                message.channel,
                attempts,
                error,
            )
        else:
            updated = mine.update(
                status=OutboxStatus.PENDING,
                attempts=attempts,
                last_error=error,
                claimed_at=None,
                next_attempt_at=clock() + backoff(attempts),
            )
            logger.warning(
                "outbox #%s (%s) attempt %d failed: %s", message.pk, message.channel, attempts, error
            )
        if not updated:
            logger.warning("outbox #%s: claim lost before recording the failure", message.pk)
        return False
    updated = mine.update(
        status=OutboxStatus.SENT,
        sent_at=clock(),
        attempts=message.attempts + 1,
        last_error="",
        claimed_at=None,
    )
    if not updated:
        logger.warning("outbox #%s: sent, but the claim was lost before recording it", message.pk)
    return True


def deliver_pending(*, limit: int = 100, now: datetime | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were sent.

    Claims the rows (status `sending`) in a short transaction, then sends each outside any
    transaction through its channel backend. A failure is retried after 1, 5, 30, 120, 360
    minutes; the 6th failure marks the row `failed`. Rows stuck in `sending` for over 10 minutes
    are put back first. `now` fixes the clock (tests); by default the real time is used.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    start = clock()
    recover_stuck(now=start)
    rows = _claim(limit=limit, now=start)
    backends: dict[str, ChannelBackend] = {}
    sent = 0
    for message in rows:
        if message.channel not in backends:
            try:
                backends[message.channel] = get_backend(message.channel)
            except Exception as exc:  # a misconfigured backend is a failed attempt, not a dead worker
                backends[message.channel] = _BrokenBackend(exc)
        if _deliver_one(message, backends[message.channel], clock):
            sent += 1
    return sent


class _BrokenBackend:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def send(self, message: OutboxMessage) -> None:
        raise RuntimeError(f"backend for {message.channel!r} cannot be loaded: {self.exc}")


# --- the in-app inbox ----------------------------------------------------------------------------


def mark_read(*, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (all, or those of `notification_ids`; ids of
    other users' rows are ignored). Returns the number marked."""
    unread = InAppNotification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return InAppNotification.objects.filter(user=user, read_at__isnull=True).count()
