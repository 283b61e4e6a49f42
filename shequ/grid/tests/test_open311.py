"""Open311 GeoReport v2 driven through a real HTTP client (urllib against the live server), as a
third-party Open311 client would: discovery, services, POST with its errors, GET with filters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from shequ.accounts.models import Department
from shequ.grid import services
from shequ.grid.apikey_views import issue_key, revoke_key
from shequ.grid.models import ApiKey, GridReport, ManagementClass
from shequ.grid.open311 import INVALID_KEY, SPECIFICATION
from shequ.places.models import Place
from shequ.workorders.choices import CLOSED

from .conftest import CLASS, GRID, photo, point_in

# Live-server tests flush the database when they end; conftest puts the class tables back.
pytestmark = pytest.mark.django_db(transaction=True)

PHONE, EMAIL = "13912345678", "zhang.san@example.com"
XML, JSON = "text/xml; charset=utf-8", "application/json; charset=utf-8"


class Client:
    """urllib against the live server; remembers every body to check that nothing leaks."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.bodies: list[str] = []

    def call(self, path: str, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        body = urlencode(data).encode("utf-8") if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, ctype, text = response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            status, ctype, text = error.code, error.headers["Content-Type"], error.read()
        decoded = text.decode("utf-8")
        self.bodies.append(decoded)
        return status, ctype, decoded

    def xml(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> tuple[int, ET.Element]:
        status, ctype, text = self.call(path, data, **kw)
        assert ctype == XML and text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        return status, ET.fromstring(text.encode("utf-8"))

    def json(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> tuple[int, Any]:
        status, ctype, text = self.call(path, data, **kw)
        assert ctype == JSON
        return status, json.loads(text)


@pytest.fixture
def api(live_server, demo):
    client = Client(live_server.url + "/open311/v2/")
    yield client
    for body in client.bodies:  # never the reporter's phone or e-mail, in any response
        assert PHONE not in body and EMAIL not in body and "张三" not in body


@pytest.fixture
def key(personas):
    _, raw = issue_key(
        by=personas["supervisor"], name="市民App", contact="", place=Place.objects.get(code="310101020")
    )
    return raw


def post_data(key: str, **change: Any) -> dict[str, Any]:
    lon, lat = point_in(GRID)
    data = {
        "api_key": key,
        "service_code": CLASS,
        "lat": f"{lat:.8f}",
        "long": f"{lon:.8f}",
        "address_string": "丽园路 100 号门口",
        "description": "人行道上有一堆垃圾",
        "first_name": "三",
        "last_name": "张",
        "phone": PHONE,
        "email": EMAIL,
        "media_url": "https://example.org/p/1.jpg",
    } | change
    return {k: v for k, v in data.items() if v is not None}


def errors_of(root: ET.Element) -> list[tuple[str, str]]:
    assert root.tag == "errors"
    return [(e.findtext("code") or "", e.findtext("description") or "") for e in root.findall("error")]


def test_discovery_in_both_formats(api, live_server):
    status, root = api.xml("discovery.xml")
    assert status == 200 and root.tag == "discovery"
    for name in ("changeset", "contact", "key_service"):
        assert root.findtext(name)
    assert root.findtext("key_service") == "向街道网格化管理中心申请"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == SPECIFICATION
    assert endpoint.findtext("url") == live_server.url + "/open311/v2"
    assert endpoint.findtext("type") == "production" and endpoint.findtext("changeset")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert "+08:00" in (root.findtext("changeset") or "")

    status, doc = api.json("discovery.json")
    assert status == 200 and doc["key_service"] == "向街道网格化管理中心申请"
    assert doc["endpoints"] == [
        {
            "specification": SPECIFICATION,
            "url": live_server.url + "/open311/v2",
            "changeset": doc["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]
    status, root = api.xml("discovery.yaml")  # an unknown format: 404 in the XML error format
    assert status == 404 and errors_of(root)[0][0] == "404"


def test_services_are_the_active_item_classes(api):
    ManagementClass.objects.filter(kind="item", code="06012").update(is_active=False)
    expected = ManagementClass.objects.filter(kind="item", is_active=True).count()
    status, root = api.xml("services.xml")
    assert status == 200 and root.tag == "services" and len(root.findall("service")) == expected
    garbage = next(s for s in root.findall("service") if s.findtext("service_code") == CLASS)
    assert garbage.findtext("service_name") == "暴露垃圾"
    assert garbage.findtext("metadata") == "false" and garbage.findtext("type") == "realtime"
    cls = ManagementClass.objects.get(kind="item", code=CLASS)
    assert garbage.findtext("group") == cls.major_name == garbage.findtext("keywords")
    assert garbage.findtext("description") == cls.filing_condition
    assert "06012" not in {s.findtext("service_code") for s in root.findall("service")}

    status, rows = api.json("services.json")
    assert status == 200 and len(rows) == expected
    row = next(r for r in rows if r["service_code"] == CLASS)
    assert row["service_code"] == "06010" and row["metadata"] is False  # a string, not 6010

    status, root = api.xml(f"services/{CLASS}.xml")
    assert status == 200 and root.tag == "service_definition" and root.findtext("service_code") == CLASS
    status, doc = api.json(f"services/{CLASS}.json")
    assert doc == {"service_code": CLASS, "attributes": []}
    status, root = api.xml("services/99999.xml")
    assert status == 404 and errors_of(root)[0][0] == "404"


def test_post_then_read_back_open_then_closed(api, key, personas):
    status, root = api.xml("requests.xml", post_data(key))
    assert status == 200 and root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert number and number.startswith("WG") and root.findtext("request/service_notice")
    assert root.find("request/account_id") is None  # absent, not empty
    report = GridReport.objects.select_related("order").get(order__number=number)
    assert (report.reporter_kind, report.place_code, report.address) == ("open311", GRID, "丽园路 100 号门口")
    assert (report.reporter_name, report.reporter_phone, report.reporter_email) == ("张三", PHONE, EMAIL)
    assert report.api_key is not None and report.api_key.last_used_at is not None

    status, root = api.xml(f"requests/{number}.xml")
    assert status == 200
    (request,) = root.findall("request")
    assert request.findtext("service_request_id") == number and request.findtext("status") == "open"
    assert request.findtext("service_code") == CLASS and request.findtext("service_name") == "暴露垃圾"
    assert (
        request.findtext("status_notes") == "立案"
        and request.findtext("agency_responsible") == "市容环卫部门"
    )
    assert request.findtext("media_url") == "https://example.org/p/1.jpg"
    assert float(request.findtext("lat") or 0) == pytest.approx(report.latitude)
    assert (request.findtext("requested_datetime") or "").endswith("+08:00")
    assert request.find("expected_datetime") is None  # not yet dispatched

    status, rows = api.json(f"requests/{number}.json")
    assert status == 200 and len(rows) == 1 and rows[0]["status"] == "open"
    assert rows[0]["expected_datetime"] is None and rows[0]["long"] == pytest.approx(report.longitude)

    # through the engine: dispatched, the department and its deadline show
    report = services.file_report(report=report, by=personas["supervisor"])
    municipal = Department.objects.get(place__code="310101020", code="municipal")
    report = services.dispatch(report=report, by=personas["dispatcher"], department=municipal)
    _, rows = api.json(f"requests/{number}.json")
    assert rows[0]["agency_responsible"] == municipal.name and rows[0]["status_notes"] == "处置"
    expected = timezone.localtime(report.order.due_at).isoformat(timespec="seconds")
    assert rows[0]["expected_datetime"] == expected

    report = services.return_dispatch(report=report, by=personas["admin"], reason="不属于市政")
    sanitation = services.suggested_department(report)
    report = services.dispatch(report=report, by=personas["dispatcher"], department=sanitation)
    report = services.finish_handling(
        report=report, by=personas["handler"], result="已清运", photos=[photo()]
    )
    report = services.act(report=report, by=personas["dispatcher"], action="forward")
    report = services.act(report=report, by=personas["inspector"], action="pass")
    report = services.act(report=report, by=personas["supervisor"], action="close", comment="已清理干净")
    assert report.order.step == CLOSED

    status, root = api.xml(f"requests/{number}.xml")
    request = root.find("request")
    assert request is not None and request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "已清理干净"
    closed_at = timezone.localtime(report.order.closed_at).isoformat(timespec="seconds")
    assert request.findtext("updated_datetime") == closed_at
    assert request.find("expected_datetime") is None


def test_bad_or_missing_key_is_403_in_the_spec_format(api, key, personas):
    for data in (post_data("not-a-key"), post_data(key, api_key=None)):
        status, root = api.xml("requests.xml", data)
        assert status == 403 and errors_of(root) == [("403", INVALID_KEY)]
    status, rows = api.json("requests.json", post_data("wrong"))
    assert status == 403 and rows == [{"code": 403, "description": INVALID_KEY}]
    revoke_key(by=personas["supervisor"], key=ApiKey.objects.get())
    status, _ = api.xml("requests.xml", post_data(key))
    assert status == 403
    assert not GridReport.objects.exists()


def test_refused_posts_name_the_argument_and_create_nothing(api, key):
    status, root = api.xml("requests.xml", post_data(key, service_code="99999"))
    assert status == 404 and "service_code" in errors_of(root)[0][1]

    status, root = api.xml("requests.xml", post_data(key, lat=None, long=None, address_string=None))
    assert status == 400 and "lat/long" in errors_of(root)[0][1]
    # an address alone cannot be located: the error says so and names lat/long
    status, root = api.xml("requests.xml", post_data(key, lat=None, long=None))
    ((code, text),) = errors_of(root)
    assert status == 400 and code == "400" and "lat/long" in text and "address_string" in text

    status, root = api.xml("requests.xml", post_data(key, lat="10.0", long="100.0"))  # outside every grid
    assert status == 400 and errors_of(root)[0][1].startswith("lat/long：")
    status, rows = api.json("requests.json", post_data(key, description="垃" * 4001))
    assert status == 400 and rows[0]["code"] == 400 and rows[0]["description"].startswith("description")

    # several errors at once, each naming its argument
    status, rows = api.json(
        "requests.json",
        post_data(key, lat=None, description="x" * 4001, email="not-an-email", service_code=""),
    )
    assert status == 400
    named = sorted(row["description"].split("：")[0] for row in rows)
    assert named == ["description", "email", "lat/long", "service_code"]
    assert not GridReport.objects.exists()


def test_a_key_only_takes_reports_in_its_own_area(api, personas):
    _, raw = issue_key(
        by=personas["admin"], name="别的街道", contact="", place=Place.objects.get(code="310101021")
    )
    status, root = api.xml("requests.xml", post_data(raw))
    assert status == 400 and errors_of(root)[0][1].startswith("lat/long")
    assert not GridReport.objects.exists()


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_result(api, key):
    headers = {"Idempotency-Key": "retry-0001-abcdef"}
    _, first = api.json("requests.json", post_data(key), headers=headers)
    _, again = api.json("requests.json", post_data(key), headers=headers)
    assert first == again and GridReport.objects.count() == 1
    _, other = api.json("requests.json", post_data(key), headers={"Idempotency-Key": "retry-0002-abcdef"})
    assert other[0]["service_request_id"] != first[0]["service_request_id"]
    assert GridReport.objects.count() == 2


def test_get_requests_filters_by_status_code_ids_and_dates(api, key, personas):
    _, rows = api.json("requests.json", post_data(key))
    open_one = rows[0]["service_request_id"]
    _, rows = api.json("requests.json", post_data(key, service_code="06012"))
    voided = rows[0]["service_request_id"]
    services.void_report(
        report=GridReport.objects.get(order__number=voided), by=personas["supervisor"], reason="不属实"
    )

    def ids(query: str) -> list[str]:
        status, root = api.xml("requests.xml?" + query)
        assert status == 200 and root.tag == "service_requests"
        return [r.findtext("service_request_id") or "" for r in root.findall("request")]

    assert sorted(ids("")) == sorted([open_one, voided])
    assert ids("status=open") == [open_one]
    assert ids("status=closed") == [voided]
    assert sorted(ids("status=open,closed")) == sorted([open_one, voided])
    assert ids("service_code=06012") == [voided]
    assert ids("service_code=06012&status=open") == []
    assert ids(urlencode({"service_request_id": f"{voided},WG-NONE", "status": "open"})) == [voided]
    today = timezone.localdate()
    assert sorted(ids(urlencode({"start_date": f"{today}T00:00:00+08:00"}))) == sorted([open_one, voided])
    assert sorted(ids(f"start_date={today}T00:00:00+08:00")) == sorted([open_one, voided])  # unencoded "+"
    assert ids("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    status, root = api.xml(f"requests.xml?start_date={today}&end_date=2000-01-01")
    assert status == 400 and errors_of(root)[0][1].startswith("end_date")

    _, rows = api.json("requests.json?status=closed")
    assert rows[0]["status"] == "closed" and rows[0]["status_notes"] == "不属实"

    status, root = api.xml("requests.xml?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z")
    assert status == 400 and "90" in errors_of(root)[0][1]
    status, root = api.xml("requests.xml?start_date=yesterday")
    assert status == 400 and errors_of(root)[0][1].startswith("start_date")
    status, root = api.xml("requests.xml?status=pending")
    assert status == 400 and errors_of(root)[0][1].startswith("status")


def test_unknown_request_and_tokens_are_404(api):
    status, root = api.xml("requests/WG20990101000001.xml")
    assert status == 404 and errors_of(root)[0][0] == "404"
    status, rows = api.json("requests/WG20990101000001.json")
    assert status == 404 and rows[0]["code"] == 404
    status, root = api.xml("tokens/abc123.xml")  # realtime service: no tokens
    assert status == 404 and errors_of(root)[0][0] == "404"


@pytest.mark.django_db  # the test client in this thread, to count the queries
def test_lists_take_a_fixed_number_of_queries(client, demo, key, django_assert_max_num_queries):
    for _ in range(3):
        assert client.post("/open311/v2/requests.xml", post_data(key)).status_code == 200
    services.void_report(report=GridReport.objects.first(), by=ApiKey.objects.get().created_by, reason="重复")
    with django_assert_max_num_queries(1):
        assert client.get("/open311/v2/services.json").status_code == 200
    with django_assert_max_num_queries(2):  # the reports, then the closing comments
        response = client.get("/open311/v2/requests.json")
    assert len(response.json()) == 3 and response["Content-Type"] == JSON
