"""Scope rules of the acceptance centre's own tables."""

from __future__ import annotations

from shequ.accounts.choices import STAFF_ROLES, Role
from shequ.accounts.scoping import ADD, CHANGE, EXPORT, REVEAL, VIEW, ScopeRule, register_scope

from .models import Case, Inquiry, OneTimeNotice

CENTRE = {Role.FRONT_DESK, Role.BACK_OFFICE, Role.CENTRE_MANAGER, Role.LEADER}
MANAGERS = {Role.CENTRE_MANAGER, Role.LEADER}

register_scope(
    Case,
    ScopeRule(
        place_field="place_code",
        roles={VIEW: CENTRE, ADD: {Role.FRONT_DESK, Role.CENTRE_MANAGER}, REVEAL: CENTRE, EXPORT: MANAGERS},
    ),
)
register_scope(OneTimeNotice, ScopeRule(place_field="place_code", roles={VIEW: CENTRE, ADD: CENTRE}))
register_scope(
    Inquiry,
    ScopeRule(
        place_field="place_code",
        roles={VIEW: MANAGERS | {Role.FRONT_DESK}, ADD: STAFF_ROLES, CHANGE: MANAGERS},
    ),
)
