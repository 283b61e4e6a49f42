"""Reads of work orders, always through `restrict` or the inbox rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from shequ.accounts.scoping import VIEW, restrict
from shequ.core.pagination import COUNT_CAP, KeysetPage, capped_count, keyset_page_by

from .choices import SlaState
from .models import WorkOrder
from .permissions import inbox_q

INBOX_RELATED = ("assignee_user", "assignee_department")


@dataclass(frozen=True)
class InboxFilters:
    kind: str = ""
    step: str = ""
    sla_state: str = ""
    place: str = ""  # a place-code prefix

    @classmethod
    def from_request(cls, request: HttpRequest) -> InboxFilters:
        place = request.GET.get("place", "").strip()
        return cls(
            kind=request.GET.get("kind", "").strip(),
            step=request.GET.get("step", "").strip(),
            sla_state=request.GET.get("sla_state", "").strip(),
            place=place if place.isdigit() else "",
        )

    def apply(self, queryset: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        if self.step:
            queryset = queryset.filter(step=self.step)
        if self.sla_state in SlaState.values:
            queryset = queryset.filter(sla_state=self.sla_state)
        if self.place:
            queryset = queryset.filter(place_code__within=self.place)
        return queryset


def inbox_queryset(user: Any) -> QuerySet[WorkOrder]:
    condition = inbox_q(user)
    if condition is None or not getattr(user, "is_authenticated", False):
        return WorkOrder.objects.none()
    return WorkOrder.objects.filter(condition)


def inbox_page(user: Any, request: HttpRequest, filters: InboxFilters) -> KeysetPage[WorkOrder]:
    """The orders the user may act on, most urgent first (the nearest deadline leads)."""
    queryset = filters.apply(inbox_queryset(user)).select_related(*INBOX_RELATED)
    return keyset_page_by(queryset, request, key="due_at")


def inbox_summary(user: Any) -> dict[str, Any]:
    queryset = inbox_queryset(user)
    total, capped = capped_count(queryset)
    warning, _ = capped_count(queryset.filter(sla_state=SlaState.WARNING))
    overdue, _ = capped_count(queryset.filter(sla_state=SlaState.OVERDUE))
    return {"total": total, "capped": capped, "warning": warning, "overdue": overdue, "cap": COUNT_CAP}


def visible_orders(user: Any) -> QuerySet[WorkOrder]:
    return restrict(WorkOrder.objects.all(), user, VIEW)
