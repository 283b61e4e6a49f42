from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.places.models import Place

from .factories import build_tree, committee_worker, make_superuser, make_user, street_leader

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return build_tree()


@pytest.fixture
def leader_client(client, tree):
    client.force_login(street_leader(tree))
    return client


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_anonymous_is_sent_to_login(client, tree):
    for url in (
        reverse("places:list"),
        reverse("places:detail", args=["310101020"]),
        reverse("places:import"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_list_shows_the_jurisdiction_roots(leader_client):
    response = leader_client.get(reverse("places:list"))
    assert response.status_code == 200
    text = body(response)
    assert "五里桥街道" in text and "打浦桥街道" not in text and "黄浦区" not in text
    assert reverse("places:detail", args=["310101020"]) in text


def test_list_children_with_breadcrumbs_and_counts(leader_client):
    response = leader_client.get(reverse("places:list"), {"parent": "310101020"})
    assert response.status_code == 200
    text = body(response)
    assert "桥一居委会" in text and "?parent=310101020001" in text  # one grid below it
    # The district above is shown in the breadcrumbs, but not as a link (out of scope).
    assert "黄浦区" in text and reverse("places:detail", args=["310101"]) not in text


def test_list_parent_out_of_scope_is_404(leader_client):
    assert leader_client.get(reverse("places:list"), {"parent": "310104"}).status_code == 404
    assert leader_client.get(reverse("places:list"), {"parent": "310101021"}).status_code == 404
    assert leader_client.get(reverse("places:list"), {"parent": "999999"}).status_code == 404


def test_superuser_list_starts_at_the_cities(client, tree):
    client.force_login(make_superuser())
    text = body(client.get(reverse("places:list")))
    assert "上海市" in text


def test_list_is_keyset_paginated(client, tree):
    client.force_login(make_superuser())
    for n in range(2, 8):
        Place.objects.create(code=f"31010102000{n}", name=f"居委{n}", kind="committee", parent=tree.street)
    first = client.get(reverse("places:list"), {"parent": "310101020", "size": 3})
    assert first.context["page"].next_after == "310101020003"
    second = client.get(reverse("places:list"), {"parent": "310101020", "size": 3, "after": "310101020003"})
    assert [p.code for p in second.context["page"].items] == ["310101020004", "310101020005", "310101020006"]


def test_list_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    client.force_login(make_superuser())
    for n in range(2, 30):
        Place.objects.create(code=f"310101020{n:03d}", name=f"居委{n}", kind="committee", parent=tree.street)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("places:list"), {"parent": "310101020"}).status_code == 200


def test_detail_in_and_out_of_scope(leader_client):
    response = leader_client.get(reverse("places:detail", args=["310101020001003"]))
    assert response.status_code == 200
    text = body(response)
    assert "有边界" in text and "m²" in text and "桥一居委会" in text
    response = leader_client.get(reverse("places:detail", args=["310101020"]))
    assert "无边界" in body(response) and "桥一居委会" in body(response)
    assert leader_client.get(reverse("places:detail", args=["310101021"])).status_code == 404
    assert leader_client.get(reverse("places:detail", args=["310104003"])).status_code == 404
    assert leader_client.get(reverse("places:detail", args=["310101"])).status_code == 404


def test_import_page_for_leader_and_403_for_committee_worker(client, tree):
    client.force_login(street_leader(tree))
    assert client.get(reverse("places:import")).status_code == 200
    client.force_login(committee_worker(tree))
    assert client.get(reverse("places:import")).status_code == 403
    response = client.post(
        reverse("places:import"), {"format": "csv", "file": SimpleUploadedFile("p.csv", b"code,name\n")}
    )
    assert response.status_code == 403


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\ufeff" + text).encode(), content_type="text/csv")


def test_import_with_errors_shows_the_table_writes_nothing_and_offers_the_report(leader_client):
    count = Place.objects.count()
    text = "code,name\n310101020002,桥二居委会\n310104003001,外区居委\n"
    response = leader_client.post(reverse("places:import"), {"format": "auto", "file": upload("p.csv", text)})
    assert response.status_code == 200
    page = body(response)
    assert "下载错误报告" in page and "辖区" in page and "<code>code</code>" in page
    assert Place.objects.count() == count
    report = leader_client.get(reverse("places:import_report"))
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert "3,code," in body(report)


def test_import_success_redirects_with_counts(leader_client):
    text = "code,name\n310101020002,桥二居委会\n310101020002001,桥二第一网格\n"
    response = leader_client.post(
        reverse("places:import"), {"format": "csv", "file": upload("p.csv", text)}, follow=True
    )
    assert response.status_code == 200
    assert "新增 2 条" in body(response)
    assert Place.objects.filter(code__startswith="310101020002").count() == 2
    assert ChangeLog.objects.filter(action=ChangeAction.IMPORT).count() == 1
    assert leader_client.get(reverse("places:import_report")).status_code == 404


def test_import_form_errors_name_the_field(leader_client):
    response = leader_client.post(reverse("places:import"), {"format": "auto", "file": upload("p.txt", "x")})
    assert response.status_code == 200
    assert "无法从文件扩展名识别格式" in body(response)


def test_export_csv_and_geojson(leader_client):
    response = leader_client.get(reverse("places:export", args=["csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = body(response).lstrip("\ufeff").splitlines()
    assert [line.split(",")[0] for line in lines] == ["code", "310101020", "310101020001", "310101020001003"]
    response = leader_client.get(reverse("places:export", args=["geojson"]), {"within": "310101020001"})
    document = json.loads(body(response))
    assert [f["properties"]["code"] for f in document["features"]] == ["310101020001", "310101020001003"]


def test_export_within_out_of_scope_is_404(leader_client):
    assert leader_client.get(reverse("places:export", args=["csv"]), {"within": "310104"}).status_code == 404


def test_export_refused_without_any_role(client, tree):
    client.force_login(make_user("nobody"))
    assert client.get(reverse("places:export", args=["csv"])).status_code == 403
