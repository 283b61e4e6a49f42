"""Roles, and where each may be bound in the place tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.places.choices import PlaceKind


class Role(models.TextChoices):
    LEADER = "leader", _("街道/区领导")
    CENTRE_MANAGER = "centre_manager", _("中心主任")
    FRONT_DESK = "front_desk", _("前台受理员")
    BACK_OFFICE = "back_office", _("后台经办人")
    COMMITTEE_WORKER = "committee_worker", _("居委会社工")
    GRID_INSPECTOR = "grid_inspector", _("网格监督员")
    SUPERVISION_OPERATOR = "supervision_operator", _("监督受理员")
    DISPATCHER = "dispatcher", _("指挥派遣员")
    PROVIDER_STAFF = "provider_staff", _("服务机构人员")
    MEDIATOR = "mediator", _("调解员")
    RESIDENT = "resident", _("居民")


STAFF_ROLES: frozenset[str] = frozenset(Role.values) - {Role.RESIDENT}

# The place kinds a role may be bound to. A leader can lead a street, a district or a city;
# a grid inspector walks grids (or a whole committee area); a back-office clerk sits in a
# department of a street office.
ROLE_PLACE_KINDS: dict[str, frozenset[str]] = {
    Role.LEADER: frozenset({PlaceKind.CITY, PlaceKind.DISTRICT, PlaceKind.STREET}),
    Role.CENTRE_MANAGER: frozenset({PlaceKind.DISTRICT, PlaceKind.STREET}),
    Role.FRONT_DESK: frozenset({PlaceKind.STREET}),
    Role.BACK_OFFICE: frozenset({PlaceKind.DISTRICT, PlaceKind.STREET}),
    Role.COMMITTEE_WORKER: frozenset({PlaceKind.COMMITTEE}),
    Role.GRID_INSPECTOR: frozenset({PlaceKind.COMMITTEE, PlaceKind.GRID}),
    Role.SUPERVISION_OPERATOR: frozenset({PlaceKind.DISTRICT, PlaceKind.STREET}),
    Role.DISPATCHER: frozenset({PlaceKind.DISTRICT, PlaceKind.STREET}),
    Role.PROVIDER_STAFF: frozenset({PlaceKind.DISTRICT, PlaceKind.STREET, PlaceKind.COMMITTEE}),
    Role.MEDIATOR: frozenset({PlaceKind.STREET, PlaceKind.COMMITTEE}),
    Role.RESIDENT: frozenset({PlaceKind.COMMITTEE, PlaceKind.GRID}),
}

# Roles that must name the department they work in.
ROLES_WITH_DEPARTMENT: frozenset[str] = frozenset({Role.BACK_OFFICE})
