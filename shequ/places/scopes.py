"""Scope rule of Place: staff see their subtree; leaders maintain it."""

from __future__ import annotations

from shequ.accounts.choices import STAFF_ROLES, Role
from shequ.accounts.scoping import ADD, CHANGE, EXPORT, VIEW, ScopeRule, register_scope

from .models import Place

register_scope(
    Place,
    ScopeRule(
        place_field="code",
        roles={VIEW: STAFF_ROLES, EXPORT: STAFF_ROLES, ADD: {Role.LEADER}, CHANGE: {Role.LEADER}},
    ),
)
