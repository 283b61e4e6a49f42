"""Writers of the audit tables. Call them inside the transaction of the change they describe,
so a rolled-back change leaves no log row and a committed one always has its row."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models

from . import context
from .models import AccessLog, ChangeLog


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(
    obj: models.Model, fields: Iterable[str] | None = None, exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """A JSON-ready dict of the object's concrete fields (foreign keys as ids)."""
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if (fields is not None and f.name not in fields) or f.name in exclude:
            continue
        data[f.name] = _jsonable(getattr(obj, f.attname))
    return data


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict | None, dict | None]:
    """Only the keys that changed, so an update's log row shows what actually moved."""
    if before is None or after is None:
        return before, after
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def actor_identity(actor: Any) -> tuple[int | None, str]:
    """(id, name) of a user; a plain string names a system actor such as a command."""
    if isinstance(actor, str):
        return None, actor[:150]
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, str(getattr(actor, "display_name", None) or actor.get_username())[:150]


def record_change(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    place_code: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    only_changes: bool = True,
) -> ChangeLog:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
        place_code = place_code or str(getattr(obj, "place_code", "") or "")
    if only_changes:
        before, after = diff(before, after)
    actor_id, actor_name = actor_identity(actor)
    ctx = context.current()
    return ChangeLog.objects.create(
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        place_code=place_code,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=ctx.request_id,
        ip=ctx.ip,
    )


def record_access(
    *,
    actor: Any,
    action: str,
    subject_type: str,
    subject_id: str = "",
    subject_repr: str = "",
    fields: Sequence[str] = (),
    purpose: str,
    record_count: int = 1,
    place_code: str = "",
) -> AccessLog:
    """Log a view, reveal or export of personal data. `subject_repr` must already be masked."""
    if not purpose or not purpose.strip():
        raise ValueError("an access to personal data needs a purpose")
    actor_id, actor_name = actor_identity(actor)
    ctx = context.current()
    return AccessLog.objects.create(
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_repr=subject_repr[:200],
        fields=list(fields),
        purpose=purpose.strip()[:300],
        record_count=record_count,
        place_code=place_code,
        request_id=ctx.request_id,
        ip=ctx.ip,
    )
