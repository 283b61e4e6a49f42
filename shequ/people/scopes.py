"""Who sees and changes resident data: the staff of the committee or street the person lives in.
Grid inspectors, dispatchers and providers do not browse the resident database.

Change requests (变更申请) are seen by whoever sees the people they concern; deciding them
(CHANGE) belongs to the street's centre managers and leaders."""

from __future__ import annotations

from shequ.accounts.choices import Role
from shequ.accounts.scoping import ADD, CHANGE, EXPORT, REVEAL, VIEW, ScopeRule, register_scope

from .models import ChangeRequest, House, Household, Person

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

# Who decides a street's change requests: its centre managers and leaders (or the district's).
APPROVERS = {Role.CENTRE_MANAGER, Role.LEADER}
register_scope(
    ChangeRequest,
    ScopeRule(place_field="place_code", roles={VIEW: READERS, CHANGE: APPROVERS}),
)
