from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import Http404

from shequ.accounts import services
from shequ.accounts.choices import Role
from shequ.accounts.models import Department, RoleAssignment, User
from shequ.accounts.scoping import CHANGE, VIEW, can, get_scoped_or_404, jurisdiction, restrict
from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places.models import Place

pytestmark = pytest.mark.django_db


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


def test_street_clerk_sees_only_own_street(personas):
    seen = codes(restrict(Place.objects.all(), personas["frontdesk"], VIEW))
    assert "310101020" in seen and "310101020001001" in seen
    assert not any(code.startswith("310101021") for code in seen)
    assert "310101" not in seen  # the district above is outside the street's subtree


def test_other_street_clerk_sees_the_other_street(personas):
    seen = codes(restrict(Place.objects.all(), personas["frontdesk_b"], VIEW))
    assert seen and all(code.startswith("310101021") for code in seen)


def test_committee_worker_sees_only_own_committee(personas):
    seen = codes(restrict(Place.objects.all(), personas["committee"], VIEW))
    assert seen == {"310101020001"} | {f"310101020001{n:03d}" for n in range(1, 6)}


def test_district_leader_sees_both_streets(personas):
    seen = codes(restrict(Place.objects.all(), personas["district_leader"], VIEW))
    assert {"310101", "310101020", "310101021"} <= seen
    assert "310104" not in seen


def test_resident_sees_no_places_and_anonymous_sees_nothing(personas):
    from django.contrib.auth.models import AnonymousUser

    assert not restrict(Place.objects.all(), personas["resident"], VIEW).exists()
    assert not restrict(Place.objects.all(), AnonymousUser(), VIEW).exists()


def test_superuser_sees_everything(personas):
    assert restrict(Place.objects.all(), personas["admin"], VIEW).count() == Place.objects.count()


def test_action_roles_matter(personas):
    grid = Place.objects.get(code="310101020001001")
    assert can(personas["leader"], CHANGE, grid)
    assert not can(personas["frontdesk"], CHANGE, grid)
    assert can(personas["frontdesk"], VIEW, grid)


def test_detail_lookup_is_404_for_missing_and_out_of_scope(personas):
    with pytest.raises(Http404):
        get_scoped_or_404(Place.objects.all(), personas["frontdesk"], VIEW, code="310101021001")
    with pytest.raises(Http404):
        get_scoped_or_404(Place.objects.all(), personas["frontdesk"], VIEW, code="999999")
    assert get_scoped_or_404(Place.objects.all(), personas["frontdesk"], VIEW, code="310101020001").name


def test_revoked_and_expired_assignments_give_no_scope(personas):
    from datetime import timedelta

    from django.utils import timezone

    user = personas["frontdesk"]
    RoleAssignment.objects.filter(user=user).update(valid_until=timezone.now() - timedelta(seconds=1))
    fresh = User.objects.get(pk=user.pk)
    assert jurisdiction(fresh) == []
    assert not restrict(Place.objects.all(), fresh, VIEW).exists()


def test_unregistered_model_fails_loudly(personas):
    from django.contrib.contenttypes.models import ContentType

    with pytest.raises(ImproperlyConfigured):
        restrict(ContentType.objects.all(), personas["frontdesk"], VIEW)


def test_jurisdiction_collapses_nested_prefixes(personas):
    leader = personas["leader"]
    services.assignment_grant(
        by=personas["admin"], user=leader, role=Role.LEADER, place=Place.objects.get(code="310101")
    )
    fresh = User.objects.get(pk=leader.pk)
    assert jurisdiction(fresh) == ["310101"]


def test_grant_checks_place_kind_and_department(personas):
    admin = personas["admin"]
    user = personas["resident"]
    with pytest.raises(ValidationError) as err:
        services.assignment_grant(
            by=admin, user=user, role=Role.FRONT_DESK, place=Place.objects.get(code="310101020001")
        )
    assert "place" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.assignment_grant(
            by=admin, user=user, role=Role.BACK_OFFICE, place=Place.objects.get(code="310101020")
        )
    assert "后台经办人必须指定所在部门" in err.value.message_dict["department"][0]
    other_dept = Department.objects.get(place__code="310101021", code="civil-affairs")
    with pytest.raises(ValidationError):
        services.assignment_grant(
            by=admin,
            user=user,
            role=Role.BACK_OFFICE,
            place=Place.objects.get(code="310101020"),
            department=other_dept,
        )


def test_grant_is_scoped_idempotent_and_audited(personas):
    manager = personas["manager"]
    user = personas["resident"]
    street = Place.objects.get(code="310101020")
    first = services.assignment_grant(by=manager, user=user, role=Role.FRONT_DESK, place=street)
    again = services.assignment_grant(by=manager, user=user, role=Role.FRONT_DESK, place=street)
    assert first.pk == again.pk
    assert ChangeLog.objects.filter(action=ChangeAction.GRANT, object_id=str(first.pk)).count() == 1
    with pytest.raises(PermissionDenied):
        services.assignment_grant(
            by=manager, user=user, role=Role.FRONT_DESK, place=Place.objects.get(code="310101021")
        )
    with pytest.raises(PermissionDenied):  # a manager cannot make leaders
        services.assignment_grant(by=manager, user=user, role=Role.LEADER, place=street)
    services.assignment_revoke(by=manager, assignment=first)
    services.assignment_revoke(by=manager, assignment=first)  # second click: no second row
    assert ChangeLog.objects.filter(action=ChangeAction.REVOKE, object_id=str(first.pk)).count() == 1
