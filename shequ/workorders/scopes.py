"""Scope rule of work orders: visibility by place, by the roles each process names, and for
back-office clerks by department (see `permissions.narrow_view`)."""

from __future__ import annotations

from shequ.accounts.choices import STAFF_ROLES
from shequ.accounts.scoping import VIEW, ScopeRule, register_scope

from .models import WorkOrder
from .permissions import narrow_view

register_scope(WorkOrder, ScopeRule(place_field="place_code", roles={VIEW: STAFF_ROLES}, narrow=narrow_view))
