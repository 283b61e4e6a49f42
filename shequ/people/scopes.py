"""Who sees and changes resident data: the staff of the committee or street the person lives in.
Grid inspectors, dispatchers and providers do not browse the resident database."""

from __future__ import annotations

from shequ.accounts.choices import Role
from shequ.accounts.scoping import ADD, CHANGE, EXPORT, REVEAL, VIEW, ScopeRule, register_scope

from .models import House, Household, Person

READERS = {Role.COMMITTEE_WORKER, Role.FRONT_DESK, Role.BACK_OFFICE, Role.CENTRE_MANAGER, Role.LEADER}
EDITORS = {Role.COMMITTEE_WORKER, Role.CENTRE_MANAGER}
RULE = ScopeRule(
    place_field="place_code",
    roles={
        VIEW: READERS,
        ADD: EDITORS,
        CHANGE: EDITORS,
        REVEAL: {Role.COMMITTEE_WORKER, Role.CENTRE_MANAGER, Role.BACK_OFFICE},
        EXPORT: {Role.COMMITTEE_WORKER, Role.CENTRE_MANAGER},
    },
)

for model in (Person, Household, House):
    register_scope(model, RULE)
