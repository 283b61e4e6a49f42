"""Reads of the in-app inbox. Notifications are owned data: a user reads only their own rows,
so the owner filter is the scope (no place restriction applies)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import InAppNotification

if TYPE_CHECKING:
    from shequ.accounts.models import User


def inbox(user: User) -> QuerySet[InAppNotification]:
    """The user's own notifications (order them by ``-id`` for newest first)."""
    return InAppNotification.objects.filter(user=user)


def newest_unread(user: User, *, limit: int = 5) -> list[InAppNotification]:
    return list(inbox(user).filter(read_at__isnull=True).order_by("-id")[:limit])
