from __future__ import annotations

import datetime as dt
import secrets
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from shequ.audit.models import AccessLog
from shequ.places.models import Place
from shequ.queueing.choices import TicketStatus
from shequ.queueing.demo import setup_centre
from shequ.queueing.models import ServiceCategory, Ticket, Window
from shequ.queueing.stats import Spread, build_report, peak_chart, percentile

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAST = dt.date(2026, 11, 20)  # a Friday: its waiting tickets were never called
TODAY = dt.date(2026, 11, 23)
URL = "queueing:stats"


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def make(
    category: ServiceCategory,
    day: dt.date,
    created: str,
    status: str,
    *,
    called: str | None = None,
    started: str | None = None,
    finished: str | None = None,
    window: Window | None = None,
    clerk=None,
    rating: int | None = None,
) -> Ticket:
    count = Ticket.objects.filter(day=day, category=category).count()
    ticket = Ticket.objects.create(
        centre_code=category.centre.code,
        day=day,
        category=category,
        number=f"{category.prefix}{count + 1:03d}",
        status=status,
        token=secrets.token_urlsafe(16),
        window=window,
        clerk=clerk,
        called_at=at(day, called) if called else None,
        started_at=at(day, started) if started else None,
        finished_at=at(day, finished) if finished else None,
        rating=rating,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at(day, created))  # auto_now_add
    return ticket


@pytest.fixture
def tickets(demo_centre, personas):
    """Hand-made tickets at 五里桥 with known times (minutes of waiting and of service)."""
    a, b = demo_centre["A"], demo_centre["B"]
    w1, w2 = (
        Window.objects.get(centre__code="310101020", number=1),
        Window.objects.get(centre__code="310101020", number=2),
    )
    zhang, liu = personas["frontdesk"], personas["backoffice"]
    done = TicketStatus.DONE
    # category A on the past day: waits 2, 4, 6, 8, 30; services 10, 6 (from the call), 4, 20
    make(
        a,
        PAST,
        "09:00",
        done,
        called="09:02",
        started="09:03",
        finished="09:13",
        window=w1,
        clerk=zhang,
        rating=5,
    )
    make(a, PAST, "09:00", done, called="09:04", finished="09:10", window=w2, clerk=liu, rating=4)
    make(
        a,
        PAST,
        "09:10",
        done,
        called="09:16",
        started="09:16",
        finished="09:20",
        window=w1,
        clerk=zhang,
        rating=2,
    )
    make(a, PAST, "09:20", TicketStatus.NO_SHOW, called="09:28", finished="09:30", window=w2, clerk=liu)
    make(
        a,
        PAST,
        "10:00",
        done,
        called="10:30",
        started="10:30",
        finished="10:50",
        window=w1,
        clerk=zhang,
        rating=3,
    )
    make(a, PAST, "10:05", TicketStatus.WAITING)  # never called: abandoned
    make(a, PAST, "10:10", TicketStatus.CANCELLED)
    # category B: one long wait (70) and a bad rating
    make(
        b,
        PAST,
        "14:00",
        done,
        called="15:10",
        started="15:10",
        finished="15:18",
        window=w2,
        clerk=liu,
        rating=1,
    )
    # today: still waiting, not abandoned
    make(a, TODAY, "09:00", TicketStatus.WAITING)
    return {"A": a, "B": b, "w1": w1, "w2": w2}


def row(rows, label_start):
    return next(r for r in rows if r.label.startswith(label_start))


def test_percentiles_interpolate_between_ranks():
    assert percentile([2, 4, 6, 8, 30], 50) == 6
    assert percentile([2, 4, 6, 8, 30], 90) == pytest.approx(21.2)
    assert percentile([7], 90) == 7
    assert Spread.of([]).p50 is None
    with pytest.raises(ValueError):
        percentile([], 50)


def test_report_counts_times_buckets_and_abandonment(tickets):
    centre = Place.objects.get(code="310101020")
    report = build_report(Ticket.objects.all(), centre=centre, start=PAST, end=TODAY, today=TODAY)

    a = row(report.by_category, "A ")
    assert (a.issued, a.done, a.no_show, a.cancelled, a.unserved, a.waiting) == (8, 4, 1, 1, 1, 1)
    assert a.abandoned == 3 and a.abandon_rate == 3 / 8
    assert (a.wait.count, a.wait.p50, a.wait.max, a.wait.mean) == (5, 6, 30, 10)
    assert a.wait.p90 == pytest.approx(21.2)
    assert (a.service.count, a.service.p50, a.service.mean) == (4, 8, 10)
    assert a.service.p90 == pytest.approx(17)
    assert (a.rated, a.satisfied, a.bad, a.satisfaction) == (4, 3, 1, 0.75)
    assert a.buckets == [2, 2, 0, 0, 1, 0]

    b = row(report.by_category, "B ")
    assert (b.issued, b.done, b.abandoned, b.wait.max, b.bad, b.satisfaction) == (1, 1, 0, 70, 1, 0)
    assert b.buckets == [0, 0, 0, 0, 0, 1]
    c = row(report.by_category, "C ")
    assert (c.issued, c.wait.p50) == (0, None)  # every category of the centre is listed

    total = report.total
    assert (total.issued, total.done, total.abandoned, total.waiting, total.rated, total.bad) == (
        9,
        5,
        3,
        1,
        5,
        2,
    )
    assert (total.wait.p50, total.wait.max, total.wait.mean) == (7, 70, 20)
    assert total.wait.p90 == pytest.approx(50)

    w1, w2 = row(report.by_window, "1 号"), row(report.by_window, "2 号")
    assert (w1.issued, w1.done, w1.no_show, w1.wait.p50, w1.service.p50) == (3, 3, 0, 6, 10)
    assert (w2.issued, w2.done, w2.no_show, w2.abandoned) == (3, 2, 1, 1)
    assert [(r.label, r.issued) for r in report.by_clerk] == [("刘洋", 3), ("张丽", 3)]
    assert row(report.by_clerk, "张丽").service.mean == pytest.approx(34 / 3)

    hours = {h.hour: (h.issued, h.mean_wait) for h in report.hours}
    assert hours[9] == (5, 5) and hours[10] == (3, 30) and hours[14] == (1, 70) and hours[12] == (0, None)
    assert min(hours) == 9 and max(hours) == 17  # office hours 09:00-12:00, 13:30-17:30


def test_only_the_range_counts(tickets):
    centre = Place.objects.get(code="310101020")
    report = build_report(Ticket.objects.all(), centre=centre, start=TODAY, end=TODAY, today=TODAY)
    assert (report.total.issued, report.total.waiting, report.total.abandoned) == (1, 1, 0)


def test_chart_scales_bars_to_the_busiest_hour(tickets):
    centre = Place.objects.get(code="310101020")
    report = build_report(Ticket.objects.all(), centre=centre, start=PAST, end=TODAY, today=TODAY)
    chart = peak_chart(report.hours)
    nine = next(b for b in chart.bars if b.hour == 9)
    ten = next(b for b in chart.bars if b.hour == 10)
    assert nine.height > ten.height > 0 and nine.y + nine.height == chart.bottom
    assert chart.count_ticks[-1][0] >= 5 and len(chart.wait_dots) == 3


@time_machine.travel(at(TODAY, "12:00"), tick=False)
def test_page_for_the_manager(tickets, client_as, django_assert_max_num_queries):
    client = client_as("manager")
    with django_assert_max_num_queries(14):
        response = client.get(reverse(URL), {"date_from": PAST, "date_to": TODAY})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "A 社保医保" in page and "张丽" in page
    assert response.context["report"].total.issued == 9
    # the default is today at the first centre of the manager's jurisdiction
    default = client.get(reverse(URL)).context["report"]
    assert (default.start, default.end, default.centre.code, default.total.issued) == (
        TODAY,
        TODAY,
        "310101020",
        1,
    )


@time_machine.travel(at(TODAY, "12:00"), tick=False)
def test_range_is_capped_at_31_days(tickets, client_as):
    response = client_as("manager").get(reverse(URL), {"date_from": "2026-10-01", "date_to": "2026-11-23"})
    assert response.status_code == 400
    assert response.context["report"] is None
    [error] = response.context["form"].errors["date_to"]
    assert "结束日期" in error and "31" in error and "2026-10-31" in error
    ok = client_as("manager").get(reverse(URL), {"date_from": "2026-10-24", "date_to": "2026-11-23"})
    assert ok.status_code == 200
    backwards = client_as("manager").get(reverse(URL), {"date_from": "2026-11-23", "date_to": "2026-11-20"})
    assert backwards.status_code == 400 and "早于" in backwards.context["form"].errors["date_to"][0]
    garbled = client_as("manager").get(reverse(URL), {"date_from": "next week"})
    assert garbled.status_code == 400 and "开始日期" in garbled.context["form"].errors["date_from"][0]


def test_who_may_see_which_centre(tickets, client_as, client):
    setup_centre("310101021")  # 打浦桥 has windows too
    assert client.get(reverse(URL)).status_code == 302  # sign in first
    for username in ("frontdesk", "backoffice", "resident", "inspector"):
        assert client_as(username).get(reverse(URL)).status_code == 403, username

    manager = client_as("manager")
    own = manager.get(reverse(URL)).context["form"].fields["centre"].choices
    assert [code for code, _ in own] == ["310101020"]
    other = manager.get(reverse(URL), {"centre": "310101021"})
    assert other.status_code == 400 and "管辖范围" in other.context["form"].errors["centre"][0]
    export = manager.get(reverse(URL), {"centre": "310101021", "format": "xlsx"})
    assert export.status_code == 400 and export["Content-Type"].startswith("text/html")

    district = client_as("district_leader").get(reverse(URL)).context["form"].fields["centre"].choices
    assert [code for code, _ in district] == ["310101020", "310101021"]
    admin = client_as("admin").get(reverse(URL), {"centre": "310101021"})
    assert admin.status_code == 200 and admin.context["report"].centre.code == "310101021"


@time_machine.travel(at(TODAY, "12:00"), tick=False)
def test_excel_export_has_a_sheet_per_dimension_with_numbers(tickets, client_as):
    response = client_as("leader").get(reverse(URL), {"date_from": PAST, "date_to": TODAY, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "queue-stats-310101020-2026-11-20-2026-11-23.xlsx" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["按类别", "按窗口", "按人员", "等候时长分布", "高峰时段"]

    sheet = book["按类别"]
    assert "五里桥" in sheet["A1"].value
    headers = [c.value for c in sheet[2]]
    values = {
        headers[i]: cell
        for i, cell in enumerate(next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "A 社保医保"))
    }
    assert values["取号"].value == 8 and values["弃号合计"].value == 3
    assert values["弃号率"].value == 0.375 and values["弃号率"].number_format == "0.0%"
    assert values["等候P90（分）"].value == 21.2 and values["等候P90（分）"].number_format == "0.0"
    assert values["满意率"].value == 0.75
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and last[1] == 9

    clerks = {r[0].value: r[1].value for r in book["按人员"].iter_rows(min_row=3)}
    assert clerks == {"刘洋": 3, "张丽": 3}
    buckets = [
        c.value
        for c in next(r for r in book["等候时长分布"].iter_rows(min_row=3) if r[0].value == "A 社保医保")
    ]
    assert buckets == ["A 社保医保", 2, 2, 0, 0, 1, 0, 5]
    hours = {r[0].value: (r[1].value, r[2].value) for r in book["高峰时段"].iter_rows(min_row=3)}
    assert hours["09:00-10:00"] == (5, 5) and hours["14:00-15:00"] == (1, 70)
    # staff names only, no resident's data; the export is logged like the acceptance statistics
    assert AccessLog.objects.get().subject_type == "queueing.stats"
