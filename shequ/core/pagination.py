"""Keyset pagination (DESIGN §4.11): pages by "after this key", never by OFFSET, so page 5,000
costs what page 1 costs, and a capped count answers "how many" without scanning everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, QuerySet
from django.http import HttpRequest

T = TypeVar("T", bound=Model)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 1000


@dataclass
class KeysetPage(Generic[T]):
    items: list[T]
    next_after: Any | None
    count: int
    count_capped: bool
    params: dict[str, str] = field(default_factory=dict)

    @property
    def next_query(self) -> str | None:
        if self.next_after is None:
            return None
        return urlencode({**self.params, "after": self.next_after})

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.count_capped else str(self.count)


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Count up to `cap` rows (the database stops scanning there)."""
    n = queryset.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


def keyset_page(
    queryset: QuerySet[T],
    request: HttpRequest | None = None,
    *,
    order: str = "id",
    after: Any | None = None,
    size: int | None = None,
    with_count: bool = True,
) -> KeysetPage[T]:
    """One page of `queryset` ordered by the unique column `order` ("-id" for descending)."""
    descending = order.startswith("-")
    column = order.lstrip("-")
    params: dict[str, str] = {}
    if request is not None:
        params = {k: str(v) for k, v in request.GET.items() if k != "after"}
        after = after if after is not None else request.GET.get("after") or None
        if size is None:
            try:
                size = int(request.GET.get("size", DEFAULT_PAGE_SIZE))
            except ValueError:
                size = DEFAULT_PAGE_SIZE
    size = max(1, min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
    if after is not None:
        try:
            key_field = queryset.model._meta.get_field(column)
            assert isinstance(key_field, Field), f"keyset column {column!r} must be a concrete field"
            after = key_field.to_python(after)
        except (ValueError, ValidationError):
            after = None  # a tampered cursor restarts at the first page
    count, capped = capped_count(queryset) if with_count else (0, False)
    page_qs = queryset.order_by(order)
    if after is not None:
        page_qs = page_qs.filter(**{f"{column}__{'lt' if descending else 'gt'}": after})
    rows = list(page_qs[: size + 1])
    next_after = getattr(rows[size - 1], column) if len(rows) > size else None
    return KeysetPage(
        items=rows[:size], next_after=next_after, count=count, count_capped=capped, params=params
    )


def _cursor_value(value: Any) -> str:
    return "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))


def keyset_page_by(
    queryset: QuerySet[T],
    request: HttpRequest | None = None,
    *,
    key: str,
    size: int | None = None,
    with_count: bool = True,
) -> KeysetPage[T]:
    """Like `keyset_page`, ordered by a non-unique column `key` (ascending, nulls last) then id.

    The cursor is ``"<key value>~<id>"``; an empty key value stands for NULL.
    """
    from django.db.models import F, Q

    params: dict[str, str] = {}
    cursor = None
    if request is not None:
        params = {k: str(v) for k, v in request.GET.items() if k != "after"}
        cursor = request.GET.get("after") or None
        try:
            size = size or int(request.GET.get("size", DEFAULT_PAGE_SIZE))
        except ValueError:
            size = DEFAULT_PAGE_SIZE
    size = max(1, min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
    count, capped = capped_count(queryset) if with_count else (0, False)
    page_qs = queryset.order_by(F(key).asc(nulls_last=True), "id")
    if cursor and "~" in cursor:
        raw_value, _sep, raw_id = cursor.rpartition("~")
        key_field = queryset.model._meta.get_field(key)
        try:
            last_id = int(raw_id)
            assert isinstance(key_field, Field)
            value = key_field.to_python(raw_value) if raw_value else None
        except (ValueError, ValidationError):
            value, last_id = None, 0
            cursor = None
        if cursor is not None:
            if value is None:  # already among the NULLs, which come last
                page_qs = page_qs.filter(**{f"{key}__isnull": True, "id__gt": last_id})
            else:
                page_qs = page_qs.filter(
                    Q(**{f"{key}__gt": value})
                    | Q(**{key: value, "id__gt": last_id})
                    | Q(**{f"{key}__isnull": True})
                )
    rows = list(page_qs[: size + 1])
    next_after = None
    if len(rows) > size:
        last = rows[size - 1]
        next_after = f"{_cursor_value(getattr(last, key))}~{last.pk}"
    return KeysetPage(
        items=rows[:size], next_after=next_after, count=count, count_capped=capped, params=params
    )
