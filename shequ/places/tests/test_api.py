from __future__ import annotations

import pytest

from shequ.places.models import Place

from .factories import build_tree, committee_worker, make_superuser, street_leader

pytestmark = pytest.mark.django_db

URL = "/api/v1/places/"


@pytest.fixture
def tree():
    return build_tree()


def codes(response) -> list[str]:
    return [item["code"] for item in response.json()["items"]]


def test_list_is_scoped(client, tree):
    client.force_login(street_leader(tree))
    response = client.get(URL)
    assert response.status_code == 200
    assert codes(response) == ["310101020", "310101020001", "310101020001003"]
    grid = response.json()["items"][2]
    assert grid == {
        "code": "310101020001003",
        "name": "桥一第三网格",
        "kind": "grid",
        "parent_code": "310101020001",
        "has_geometry": True,
    }
    assert response.json()["next_after"] is None


def test_list_filters_and_keyset_pages(client, tree):
    client.force_login(make_superuser())
    first = client.get(URL, {"within": "310101", "limit": 2})
    assert codes(first) == ["310101", "310101020"] and first.json()["next_after"] == "310101020"
    second = client.get(URL, {"within": "310101", "limit": 2, "after": "310101020"})
    assert codes(second) == ["310101020001", "310101020001003"]
    third = client.get(URL, {"within": "310101", "limit": 2, "after": second.json()["next_after"]})
    assert codes(third) == ["310101021"] and third.json()["next_after"] is None
    assert codes(client.get(URL, {"kind": "street"})) == ["310101020", "310101021", "310104003"]


def test_list_rejects_bad_parameters(client, tree):
    client.force_login(make_superuser())
    assert client.get(URL, {"limit": 201}).status_code == 422
    response = client.get(URL, {"kind": "village"})
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]


def test_within_out_of_scope_is_404(client, tree):
    client.force_login(committee_worker(tree))
    assert client.get(URL, {"within": "310101020"}).status_code == 404
    assert codes(client.get(URL, {"within": "310101020001"})) == ["310101020001", "310101020001003"]


def test_detail_is_scoped(client, tree):
    client.force_login(street_leader(tree))
    response = client.get(URL + "310101020001003")
    assert response.status_code == 200
    data = response.json()
    assert [a["code"] for a in data["ancestors"]] == ["310000", "310101", "310101020", "310101020001"]
    assert data["geometry"]["type"] == "Polygon" and data["children_count"] == 0
    missing = client.get(URL + "310104003")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get(URL + "000000").status_code == 404


def test_anonymous_is_401(client, tree):
    assert client.get(URL).status_code == 401


def test_list_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    client.force_login(make_superuser())
    for n in range(2, 60):
        Place.objects.create(code=f"310101020{n:03d}", name=f"居委{n}", kind="committee", parent=tree.street)
    with django_assert_max_num_queries(6):
        assert len(codes(client.get(URL, {"limit": 100}))) == 66
