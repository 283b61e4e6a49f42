"""Idempotent creates (DESIGN §4.3).

Every create from a form carries a hidden ``idempotency_key`` (``{% idempotency_field %}``) and
every API create may send an ``Idempotency-Key`` header. `run_once` claims the key and runs the
action in one transaction, so of two identical requests exactly one does the work: the other
waits on the key's unique index and then replays the stored result.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import IdempotencyKey

T = TypeVar("T")

FORM_FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(days=2)
_VALID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    replayed: bool  # True: an earlier request with the same key did the work


def new_key() -> str:
    return uuid.uuid4().hex


def key_from(request: HttpRequest) -> str | None:
    """The request's idempotency key (form field or header), or None when absent or malformed."""
    raw = request.POST.get(FORM_FIELD) or request.headers.get(HEADER) or ""
    return raw if _VALID.match(raw) else None


def run_once(
    *,
    key: str | None,
    user_id: int | None,
    scope: str,
    action: Callable[[], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
) -> Outcome[T]:
    """Run `action` once per (user, scope, key); without a key, just run it.

    Anonymous requests (the hall kiosk, public booking) pass None and share owner 0: a NULL would
    never collide in the unique index (NULLs are distinct), so their double taps would run twice.
    The random key from the form is what keeps two residents apart.
    """
    if key is None:
        return Outcome(action(), replayed=False)
    user_id = 0 if user_id is None else user_id
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: only the claim's own failure is caught
                claim = IdempotencyKey.objects.create(user_id=user_id, scope=scope, key=key)
        except IntegrityError:
            # Another request holds this key. On PostgreSQL the insert waited for it to commit,
            # so its result is there to replay.
            stored = IdempotencyKey.objects.get(user_id=user_id, scope=scope, key=key)
            return Outcome(decode(stored.result), replayed=True)
        value = action()
        claim.result = encode(value)
        claim.save(update_fields=["result"])
        return Outcome(value, replayed=False)


def prune(older_than: timedelta = KEEP_FOR) -> int:
    """Forget keys older than `older_than` (a retry comes within seconds, not days)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
