from __future__ import annotations

import pytest
from django.urls import reverse

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places.models import Place

from .factories import build_tree, make_superuser

pytestmark = pytest.mark.django_db


def test_admin_add_and_change_go_through_the_services(client):
    tree = build_tree()
    client.force_login(make_superuser())
    assert client.get(reverse("admin:places_place_changelist")).status_code == 200
    response = client.post(
        reverse("admin:places_place_add"),
        {"code": "310101020002", "name": "桥二居委会", "kind": "committee", "parent": tree.street.pk,
         "geometry": "null", "source": "", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    place = Place.objects.get(code="310101020002")
    assert ChangeLog.objects.filter(action=ChangeAction.CREATE, object_id=str(place.pk)).exists()

    response = client.post(
        reverse("admin:places_place_change", args=[place.pk]),
        {"name": "桥二居民委员会", "geometry": "null", "source": "街道", "is_active": "on"},
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.name == "桥二居民委员会"
    log = ChangeLog.objects.get(action=ChangeAction.UPDATE, object_id=str(place.pk))
    assert log.after == {"name": "桥二居民委员会", "source": "街道"}


def test_admin_rejects_bad_codes_and_boundaries_on_the_form(client):
    tree = build_tree()
    client.force_login(make_superuser())
    response = client.post(
        reverse("admin:places_place_add"),
        {"code": "310104020001", "name": "错位居委", "kind": "committee", "parent": tree.street.pk,
         "geometry": '{"type": "Point", "coordinates": [121, 31]}', "source": "", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    text = response.content.decode()
    assert "不在上级" in text and "边界" in text
    assert not Place.objects.filter(code="310104020001").exists()
