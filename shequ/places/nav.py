"""Navigation entry of the place tree; imported once from `PlacesConfig.ready`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import STAFF_ROLES
from shequ.accounts.navigation import NavItem, register

register(
    NavItem(
        key="places", label=_("区划与网格"), url_name="places:list", roles=frozenset(STAFF_ROLES), order=80
    )
)
