"""Leaders and centre managers read the change log of their jurisdiction; only leaders read who
looked at personal data (the access log is itself sensitive)."""

from __future__ import annotations

from shequ.accounts.choices import Role
from shequ.accounts.scoping import VIEW, ScopeRule, register_scope

from .models import AccessLog, ChangeLog

register_scope(
    ChangeLog, ScopeRule(place_field="place_code", roles={VIEW: {Role.LEADER, Role.CENTRE_MANAGER}})
)
register_scope(AccessLog, ScopeRule(place_field="place_code", roles={VIEW: {Role.LEADER}}))
