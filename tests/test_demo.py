from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from shapely.geometry import shape

from shequ.accounts.models import Department, RoleAssignment, User
from shequ.core.demo.people import DEMO_PASSWORD, USERS
from shequ.places.codes import code_errors
from shequ.places.models import Place

pytestmark = pytest.mark.django_db


def counts():
    return (
        Place.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        Department.objects.count(),
    )


def test_load_demo_twice_changes_nothing(demo):
    before = counts()
    call_command("load_demo", stdout=StringIO())
    assert counts() == before


def test_demo_street_has_committees_and_grids_with_valid_codes(demo):
    street = Place.objects.get(code="310101020")
    assert street.name == "五里桥街道" and street.parent.code == "310101"
    committees = Place.objects.filter(parent=street)
    assert committees.count() >= 6
    grids = Place.objects.filter(kind="grid", code__within="310101020")
    assert grids.count() >= 30
    for place in Place.objects.select_related("parent"):
        parent_code = place.parent.code if place.parent else None
        parent_kind = place.parent.kind if place.parent else None
        assert code_errors(place.code, place.kind, parent_code, parent_kind) == []
    assert Place.objects.filter(kind="district").count() == 16


def test_grids_tile_their_committee_without_overlap(demo):
    for committee in Place.objects.filter(kind="committee", code__within="310101020"):
        grids = [shape(g.geometry) for g in Place.objects.filter(parent=committee)]
        outline = shape(committee.geometry)
        assert all(g.is_valid and g.area > 0 for g in grids)
        assert abs(sum(g.area for g in grids) - outline.area) < 1e-12
        for i, a in enumerate(grids):
            for b in grids[i + 1 :]:
                assert a.intersection(b).area < 1e-12


def test_every_role_has_a_demo_user_with_the_demo_password(demo):
    from shequ.accounts.choices import Role

    assert {u.role for u in USERS if u.role} == set(Role.values)
    for spec in USERS:
        assert User.objects.get(username=spec.username).check_password(DEMO_PASSWORD), spec.username


def test_print_logins_lists_every_user(db):
    out = StringIO()
    call_command("load_demo", "--print-logins", stdout=out)
    for spec in USERS:
        assert spec.username in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
