from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shequ.accounts.choices import Role
from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places.models import Place
from shequ.places.services import geometry_errors, geometry_summary, place_create, place_update

from .factories import SQUARE, build_tree, committee_worker, make_superuser, make_user, street_leader

pytestmark = pytest.mark.django_db

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[121.0, 31.0], [121.1, 31.1], [121.1, 31.0], [121.0, 31.1], [121.0, 31.0]]],
}


def test_leader_creates_a_committee_in_their_street_and_it_is_logged():
    tree = build_tree()
    leader = street_leader(tree)
    place = place_create(
        by=leader,
        code="310101020002",
        name=" 桥二居委会 ",
        kind="committee",
        parent_code="310101020",
        geometry=SQUARE,
    )
    assert place.parent == tree.street and place.name == "桥二居委会"
    log = ChangeLog.objects.get(action=ChangeAction.CREATE, object_id=str(place.pk))
    assert log.place_code == "310101020002" and log.actor_id == leader.pk
    assert log.after["code"] == "310101020002" and log.after["parent"] == "310101020"


def test_create_errors_name_the_field():
    tree = build_tree()
    root = make_superuser()
    with pytest.raises(ValidationError) as excinfo:
        place_create(
            by=root, code="310104020", name="", kind="street", parent_code=tree.district.code, geometry=BOWTIE
        )
    errors = excinfo.value.message_dict
    assert "不在上级" in " ".join(errors["parent_code"])
    assert errors["name"] and "边界" in errors["geometry"][0]


def test_duplicate_code_is_a_validation_error_on_code():
    tree = build_tree()
    with pytest.raises(ValidationError) as excinfo:
        place_create(
            by=make_superuser(), code=tree.street.code, name="重复", kind="street", parent_code="310101"
        )
    assert "已存在" in excinfo.value.message_dict["code"][0]


def test_missing_parent_is_reported():
    build_tree()
    with pytest.raises(ValidationError) as excinfo:
        place_create(
            by=make_superuser(), code="310105001", name="新街道", kind="street", parent_code="310105"
        )
    assert "310105" in excinfo.value.message_dict["parent_code"][0]


def test_leader_cannot_create_outside_their_street():
    tree = build_tree()
    leader = street_leader(tree)
    with pytest.raises(PermissionDenied):
        place_create(
            by=leader, code="310104003001", name="外区居委", kind="committee", parent_code="310104003"
        )
    with pytest.raises(PermissionDenied):
        place_create(by=leader, code="310101030", name="同区新街道", kind="street", parent_code="310101")
    assert not Place.objects.filter(code__in=["310104003001", "310101030"]).exists()


def test_only_superusers_create_cities():
    build_tree()
    city_leader = make_user("city_leader", Role.LEADER, Place.objects.get(code="310000"))
    with pytest.raises(PermissionDenied):
        place_create(by=city_leader, code="320500", name="苏州市", kind="city")
    assert place_create(by=make_superuser(), code="320500", name="苏州市", kind="city").parent is None


def test_update_logs_only_what_changed():
    tree = build_tree()
    leader = street_leader(tree)
    place_update(by=leader, place=tree.committee, name="桥一居民委员会", geometry=SQUARE)
    log = ChangeLog.objects.get(action=ChangeAction.UPDATE)
    assert log.before == {"name": "桥一居委会", "geometry": None}
    assert log.after["name"] == "桥一居民委员会"
    place_update(by=leader, place=tree.committee, name="桥一居民委员会")
    assert ChangeLog.objects.filter(action=ChangeAction.UPDATE).count() == 1


def test_update_checks_scope_and_geometry():
    tree = build_tree()
    with pytest.raises(PermissionDenied):
        place_update(by=committee_worker(tree), place=tree.committee, name="改名")
    with pytest.raises(PermissionDenied):
        place_update(by=street_leader(tree), place=tree.other_street, name="改名")
    with pytest.raises(ValidationError) as excinfo:
        place_update(
            by=make_superuser(), place=tree.grid, geometry={"type": "Point", "coordinates": [121, 31]}
        )
    assert "边界" in excinfo.value.message_dict["geometry"][0]


@pytest.mark.parametrize(
    "geometry",
    [
        BOWTIE,
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        {"type": "Polygon", "coordinates": "nonsense"},
        {"type": "Polygon", "coordinates": [[[500, 0], [501, 0], [501, 1], [500, 0]]]},
        [1, 2],
    ],
)
def test_bad_geometries_are_rejected(geometry):
    messages = geometry_errors(geometry)
    assert messages and "边界" in messages[0]


def test_good_geometries_pass():
    assert geometry_errors(None) == []
    assert geometry_errors(SQUARE) == []
    assert geometry_errors({"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}) == []


def test_geometry_summary_area_is_close_to_the_geodesic_value():
    summary = geometry_summary(SQUARE)
    # 0.001° of longitude at 31.2° N ≈ 95.2 m, 0.0009° of latitude ≈ 99.8 m.
    assert summary is not None and summary.kind == "Polygon" and summary.parts == 1
    assert 9400 < summary.area_m2 < 9600
    assert summary.bounds == pytest.approx((121.48, 31.2, 121.481, 31.2009))
    assert geometry_summary(None) is None
