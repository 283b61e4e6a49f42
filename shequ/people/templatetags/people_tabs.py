"""The tab bar across the resident database's pages: each tab shown only to the roles that may
use its page, so a front-desk clerk sees search and the summaries, a committee worker also the
import and their change requests, a street manager or leader the approvals."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import user_roles

from ..scopes import APPROVERS, EDITORS, READERS

register = template.Library()

TABS = (
    ("search", _("查找"), "people:search", READERS),
    ("import", _("导入"), "people:import", EDITORS),
    ("changes", _("信息变更"), "people:changes", EDITORS | APPROVERS),
    ("quality", _("数据质量"), "people:quality", READERS),
    ("population", _("人口概况"), "people:population", READERS),
)


@register.inclusion_tag("people/_tabs.html", takes_context=True)
def people_tabs(context: dict[str, Any], current: str) -> dict[str, Any]:
    user = context["request"].user
    roles = user_roles(user)
    tabs = [
        {"key": key, "label": label, "url": reverse(url_name), "current": key == current}
        for key, label, url_name, allowed in TABS
        if user.is_superuser or roles & set(allowed)
    ]
    return {"tabs": tabs}
