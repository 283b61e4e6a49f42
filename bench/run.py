"""Benchmarks of the acceptance centre's hot paths, on PostgreSQL, against baselines measured in
the same run (DESIGN §6). Writes docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shequ_bench python bench/run.py --cases 50000

Operations (issue "work-order engine and acceptance centre"):
  * accept: one case through the full service (validation, numbering, order, case, timeline,
    outbox), each in its own transaction, as the desk does it;
  * tracking: the public lookup by number and the phone's last four digits, with the history;
  * inbox: the first and a later page of a back-office clerk's inbox (keyset by deadline).
Baselines: a primary-key read through the ORM (framework ceiling for a one-row read) and the
same lookup as raw SQL through psycopg (database ceiling).

This measures in-process service and query latency. The HTTP load runner, the data generators
with COPY and the city-scale sizes belong to the benchmarks issue and will extend this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from shequ.accounts.models import Department, User  # noqa: E402
from shequ.affairs import services, tracking  # noqa: E402
from shequ.affairs.models import Case, Matter  # noqa: E402
from shequ.core.idnumbers import make_resident_id  # noqa: E402
from shequ.workorders.choices import SlaState, StatusGroup  # noqa: E402
from shequ.workorders.models import WorkOrder  # noqa: E402
from shequ.workorders.selectors import InboxFilters, inbox_page, inbox_queryset  # noqa: E402

COMMITTEES = [f"310101020{n:03d}" for n in range(1, 7)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class Result:
    def __init__(self, name: str, timings: list[float], queries: int | None = None, note: str = ""):
        self.name, self.timings, self.queries, self.note = name, timings, queries, note

    @property
    def p50(self) -> float:
        return statistics.median(self.timings) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.timings, 95) * 1000

    @property
    def p99(self) -> float:
        return percentile(self.timings, 99) * 1000

    @property
    def rate(self) -> float:
        return len(self.timings) / sum(self.timings)


def measure(name: str, op: Callable[[int], object], repeat: int, note: str = "") -> Result:
    for i in range(min(20, repeat)):  # warm up caches and connections
        op(i)
    timings = []
    for i in range(repeat):
        start = time.perf_counter()
        op(i)
        timings.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as ctx:
        op(repeat + 1)
    return Result(name, timings, len(ctx.captured_queries), note)


def generate(total: int) -> None:
    """Cases spread over the demo street's committees, in every state, bulk-inserted."""
    existing = Case.objects.count()
    if existing >= total:
        return
    rng = random.Random(7)
    matters = list(Matter.objects.filter(is_active=True, department_code="civil-affairs"))
    dept = Department.objects.get(place__code="310101020", code="civil-affairs")
    desk = User.objects.get(username="frontdesk")
    now = timezone.now()
    batch = 5000
    n = existing
    while n < total:
        orders, cases = [], []
        for i in range(n, min(total, n + batch)):
            day = dt.date(2025, 1, 1) + dt.timedelta(days=i // 2000)
            state = rng.random()
            status = StatusGroup.CLOSED if state < 0.7 else StatusGroup.OPEN
            due = now + dt.timedelta(hours=rng.randint(-200, 400)) if status == StatusGroup.OPEN else None
            orders.append(
                WorkOrder(
                    number=f"BW{day:%Y%m%d}-{i % 2000 + 1:04d}",
                    kind="affairs.case",
                    place_code=rng.choice(COMMITTEES),
                    title="bench",
                    step="closed"
                    if status == StatusGroup.CLOSED
                    else rng.choice(["examining", "delivering"]),
                    status=status,
                    sla_state=SlaState.NONE
                    if due is None
                    else (SlaState.OVERDUE if due < now else SlaState.ON_TIME),
                    assignee_department=dept,
                    due_at=due,
                    subject_name="测试",
                    subject_phone=f"139{i:08d}",
                    data={"promised_days": 5},
                )
            )
        WorkOrder.objects.bulk_create(orders, batch_size=batch)
        for i, order in enumerate(orders, start=n):
            cases.append(
                Case(
                    order=order,
                    matter=rng.choice(matters),
                    place_code=order.place_code,
                    name="测试",
                    id_number=make_resident_id(
                        "310101", dt.date(1960, 1, 1) + dt.timedelta(days=i % 15000), i
                    ),
                    phone=order.subject_phone,
                    accepted_by_id=desk.pk,
                )
            )
        Case.objects.bulk_create(cases, batch_size=batch)
        n += len(orders)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run(cases: int, repeat: int) -> list[Result]:
    if connection.vendor != "postgresql":
        sys.exit("benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--base", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("load_matters", stdout=open(os.devnull, "w"))  # noqa: SIM115
    generate(cases)
    desk = User.objects.get(username="frontdesk")
    back = User.objects.get(username="backoffice")
    matter = Matter.objects.filter(is_active=True, department_code="civil-affairs").order_by("code").first()
    assert matter is not None
    received = list(matter.materials.values_list("pk", flat=True))
    sample = list(Case.objects.order_by("?").values_list("order__number", "phone")[:1000])
    pks = list(WorkOrder.objects.order_by("?").values_list("pk", flat=True)[:1000])
    results = []

    def accept(i: int) -> None:
        with transaction.atomic():
            services.accept(
                by=desk,
                matter=matter,
                applicant=services.ApplicantData(
                    name="王测试",
                    id_number=make_resident_id("310101", dt.date(1970, 1, 1), i % 999),
                    phone="13900000000",
                ),
                received=received,
                place_code=COMMITTEES[i % len(COMMITTEES)],
            )

    results.append(measure("accept a case (full service)", accept, repeat))

    def track(i: int) -> None:
        number, phone = sample[i % len(sample)]
        case = tracking.find_case(number, phone[-4:])
        assert case is not None
        tracking.public_status(case)

    results.append(measure("tracking lookup (number + 4 digits, with history)", track, repeat))

    factory = RequestFactory()
    first_page = inbox_page(back, factory.get("/workorders/"), InboxFilters())
    cursor = first_page.next_after

    def inbox_first(i: int) -> None:
        inbox_page(back, factory.get("/workorders/"), InboxFilters())

    def inbox_later(i: int) -> None:
        inbox_page(back, factory.get("/workorders/", {"after": cursor}), InboxFilters())

    results.append(measure("inbox, first page (50 rows, capped count)", inbox_first, repeat))
    results.append(measure("inbox, next page (keyset)", inbox_later, repeat))

    def orm_baseline(i: int) -> None:
        WorkOrder.objects.filter(pk=pks[i % len(pks)]).first()

    results.append(measure("baseline: ORM primary-key read", orm_baseline, repeat))
    raw = connection.connection  # the psycopg connection under Django's

    def raw_baseline(i: int) -> None:
        with raw.cursor() as c:
            c.execute("SELECT id, number, step FROM workorders_workorder WHERE id = %s", [pks[i % len(pks)]])
            c.fetchone()

    results.append(measure("baseline: raw SQL primary-key read (psycopg)", raw_baseline, repeat))
    reset_queries()
    return results


def explain_inbox() -> str:
    back = User.objects.get(username="backoffice")
    queryset = inbox_queryset(back).order_by("due_at", "id")[:51]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def report(results: list[Result], cases: int, repeat: int) -> str:
    raw = next(r for r in results if r.name.startswith("baseline: raw"))
    orm = next(r for r in results if r.name.startswith("baseline: ORM"))
    lines = [
        "# Benchmarks",
        "",
        f"Run {timezone.localtime():%Y-%m-%d %H:%M} on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}), {cases:,} cases in the "
        f"database, {repeat} timed repetitions per operation, in-process (no HTTP).",
        "",
        "| operation | p50 ms | p95 ms | p99 ms | ops/s | queries | p50 vs ORM read | p50 vs raw SQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.p50:.2f} | {r.p95:.2f} | {r.p99:.2f} | {r.rate:,.0f} | {r.queries} | "
            f"{r.p50 / orm.p50:.1f}× | {r.p50 / raw.p50:.1f}× |"
        )
    lines += ["", "## Inbox query plan", "", "```", explain_inbox(), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    results = run(args.cases, args.repeat)
    text = report(results, args.cases, args.repeat)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
