"""Queue data is scoped by the centre's street code."""

from __future__ import annotations

from shequ.accounts.choices import Role
from shequ.accounts.scoping import CHANGE, VIEW, ScopeRule, register_scope

from .models import Ticket

CENTRE_STAFF = {Role.FRONT_DESK, Role.BACK_OFFICE, Role.CENTRE_MANAGER, Role.LEADER, Role.MEDIATOR}

register_scope(Ticket, ScopeRule(place_field="centre_code", roles={VIEW: CENTRE_STAFF, CHANGE: CENTRE_STAFF}))
