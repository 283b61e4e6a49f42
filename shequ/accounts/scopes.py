"""Scope rules of the accounts models."""

from __future__ import annotations

from .choices import STAFF_ROLES, Role
from .models import Department, RoleAssignment, User
from .scoping import ADD, CHANGE, REVEAL, VIEW, ScopeRule, register_scope

MANAGERS = {Role.LEADER, Role.CENTRE_MANAGER}

register_scope(
    User,
    ScopeRule(
        place_field="assignments__place__code",
        roles={VIEW: MANAGERS, CHANGE: MANAGERS, REVEAL: MANAGERS},
        owner_field="pk",
        owner_actions=frozenset({VIEW, REVEAL}),
        distinct=True,
    ),
)
register_scope(
    RoleAssignment,
    ScopeRule(
        place_field="place__code", roles={VIEW: MANAGERS, ADD: MANAGERS, CHANGE: MANAGERS}, owner_field="user"
    ),
)
register_scope(
    Department,
    ScopeRule(place_field="place__code", roles={VIEW: STAFF_ROLES, ADD: MANAGERS, CHANGE: MANAGERS}),
)
