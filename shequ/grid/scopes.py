"""Scope rules of grid management's tables. A report is seen where its unit grid lies, by the
roles of the closed loop; components and responsibility grids by the staff of their area."""

from __future__ import annotations

from shequ.accounts.choices import STAFF_ROLES, Role
from shequ.accounts.scoping import ADD, CHANGE, EXPORT, REVEAL, VIEW, ScopeRule, register_scope

from .models import ApiKey, Component, Dispatch, GridReport, ResponsibilityGrid

LOOP = {Role.GRID_INSPECTOR, Role.SUPERVISION_OPERATOR, Role.DISPATCHER, Role.BACK_OFFICE, Role.LEADER}
CENTRES = {Role.SUPERVISION_OPERATOR, Role.DISPATCHER, Role.LEADER}

register_scope(
    GridReport,
    ScopeRule(
        place_field="place_code",
        roles={VIEW: LOOP, ADD: LOOP, REVEAL: CENTRES, EXPORT: CENTRES},
        owner_field="reporter_user",
    ),
)
register_scope(Dispatch, ScopeRule(place_field="place_code", roles={VIEW: LOOP, EXPORT: CENTRES}))
register_scope(
    Component,
    ScopeRule(place_field="place_code", roles={VIEW: STAFF_ROLES, ADD: CENTRES, CHANGE: CENTRES}),
)
register_scope(
    ResponsibilityGrid,
    ScopeRule(place_field="place__code", roles={VIEW: STAFF_ROLES, ADD: CENTRES, CHANGE: CENTRES}),
)
register_scope(
    ApiKey, ScopeRule(place_field="place__code", roles={VIEW: CENTRES, ADD: CENTRES, CHANGE: CENTRES})
)
