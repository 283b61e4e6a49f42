"""Benchmarks of the acceptance centre's hot paths, on PostgreSQL, against baselines measured in
the same run (DESIGN §6). Writes docs/benchmarks.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shequ_bench python bench/run.py --cases 50000

Operations (issue "work-order engine and acceptance centre"):
  * accept: one case through the full service (validation, numbering, order, case, timeline,
    outbox), each in its own transaction, as the desk does it;
  * tracking: the public lookup by number and the phone's last four digits, with the history;
  * inbox: the first and a later page of a back-office clerk's inbox (keyset by deadline).
Operations (issue "queue numbering"), at 五里桥's centre with a day of thousands of waiting
tickets (--queue), each through the service in its own transaction as the kiosk and the window
do it:
  * issue ticket: the daily number, the ticket, the people ahead and the estimated wait;
  * call next: the window's best waiting ticket, claimed with FOR UPDATE SKIP LOCKED (between
    two timed calls the window's ticket is finished, untimed, as the clerk would).
Baselines: a primary-key read through the ORM (framework ceiling for a one-row read) and the
same lookup as raw SQL through psycopg (database ceiling).

This measures in-process service and query latency. The HTTP load runner, the data generators
with COPY and the city-scale sizes belong to the benchmarks issue and will extend this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")

import django  # noqa: E402

django.setup()

import residents  # noqa: E402  (bench/residents.py: the resident database at city scale)
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, reset_queries, transaction  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from shequ.accounts.models import Department, User  # noqa: E402
from shequ.affairs import services, tracking  # noqa: E402
from shequ.affairs.models import Case, Matter  # noqa: E402
from shequ.core.idnumbers import make_resident_id  # noqa: E402
from shequ.core.models import DailySequence  # noqa: E402
from shequ.queueing import services as queue  # noqa: E402
from shequ.queueing.choices import OPEN_TICKET_STATUSES, TicketPriority, TicketStatus  # noqa: E402
from shequ.queueing.demo import setup_centre  # noqa: E402
from shequ.queueing.models import ServiceCategory, Ticket, Window  # noqa: E402
from shequ.workorders.choices import SlaState, StatusGroup  # noqa: E402
from shequ.workorders.models import WorkOrder  # noqa: E402
from shequ.workorders.selectors import InboxFilters, inbox_page, inbox_queryset  # noqa: E402

COMMITTEES = [f"310101020{n:03d}" for n in range(1, 7)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class Result:
    def __init__(
        self,
        name: str,
        timings: list[float],
        queries: int | None = None,
        note: str = "",
        wall: float | None = None,
    ):
        self.name, self.timings, self.queries, self.note = name, timings, queries, note
        self.wall = wall  # parallel runs: the wall-clock time all the timed calls took together

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
        return len(self.timings) / (self.wall or sum(self.timings))


def measure(
    name: str,
    op: Callable[[int], object],
    repeat: int,
    note: str = "",
    reset: Callable[[int], object] | None = None,
) -> Result:
    """Time `op` `repeat` times after a warm-up; `reset` (untimed) runs after each call."""

    def run_once(i: int) -> float:
        start = time.perf_counter()
        op(i)
        elapsed = time.perf_counter() - start
        if reset is not None:
            reset(i)
        return elapsed

    for i in range(min(20, repeat)):  # warm up caches and connections
        run_once(i)
    timings = [run_once(i) for i in range(repeat)]
    with CaptureQueriesContext(connection) as ctx:
        op(repeat + 1)
    if reset is not None:
        reset(repeat + 1)
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


QUEUE_CENTRE = "310101020"  # 五里桥's centre of the queue demo: categories A-F, windows 1-8
QUEUE_WINDOW = 8  # the all-round window: it serves every category


def generate_queue(waiting: int) -> None:
    """Top today's queue at the centre up to `waiting` waiting tickets, numbered on from the
    daily counters (the counters are raised to match), 10% priority groups, 2% appointments."""
    today = timezone.localdate()
    have = Ticket.objects.filter(centre_code=QUEUE_CENTRE, day=today, status=TicketStatus.WAITING).count()
    if have >= waiting:
        return
    rng = random.Random(11)
    categories = list(ServiceCategory.objects.filter(centre__code=QUEUE_CENTRE).order_by("prefix"))
    weights = [30, 11, 12, 18, 15, 14][: len(categories)]
    last: dict[str, int] = {}
    for category in categories:
        scope = f"ticket:{QUEUE_CENTRE}:{category.prefix}"
        row = DailySequence.objects.filter(scope=scope, day=today).first()
        last[category.prefix] = row.last if row else 0
    tickets = []
    for _ in range(waiting - have):
        category = rng.choices(categories, weights=weights)[0]
        last[category.prefix] += 1
        draw = rng.random()
        priority = (
            TicketPriority.APPOINTMENT
            if draw < 0.02
            else TicketPriority.PRIORITY_GROUP
            if draw < 0.12
            else TicketPriority.NORMAL
        )
        tickets.append(
            Ticket(
                centre_code=QUEUE_CENTRE,
                day=today,
                category=category,
                number=f"{category.prefix}{last[category.prefix]:03d}",
                priority=priority,
                token=f"bench{today:%Y%m%d}{category.prefix}{last[category.prefix]:07d}",
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=5000)
    for prefix, value in last.items():
        DailySequence.objects.update_or_create(
            scope=f"ticket:{QUEUE_CENTRE}:{prefix}", day=today, defaults={"last": value}
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE queueing_ticket")


def queue_results(repeat: int, waiting: int) -> list[Result]:
    setup_centre(QUEUE_CENTRE)
    generate_queue(waiting)
    clerk = User.objects.get(username="frontdesk")
    window = Window.objects.select_related("centre").get(centre__code=QUEUE_CENTRE, number=QUEUE_WINDOW)
    # A run that stopped half-way may have left the window with an open ticket.
    Ticket.objects.filter(window=window, status__in=OPEN_TICKET_STATUSES).update(
        status=TicketStatus.DONE, finished_at=timezone.now()
    )
    queue.sign_in(window=window, clerk=clerk)
    categories = list(ServiceCategory.objects.select_related("centre").filter(centre__code=QUEUE_CENTRE))
    results = []

    def issue(i: int) -> None:
        queue.issue_ticket(category=categories[i % len(categories)])

    results.append(measure("queue: issue ticket", issue, repeat))
    called: list[Ticket] = []

    def call(i: int) -> None:
        ticket = queue.call_next(window=window, clerk=clerk)
        assert ticket is not None, "the bench queue ran dry: raise --queue"
        called.append(ticket)

    def finish(i: int) -> None:  # the clerk finishes the ticket before calling the next one
        Ticket.objects.filter(pk=called[-1].pk).update(status=TicketStatus.DONE, finished_at=timezone.now())

    results.append(measure("queue: call next", call, repeat, reset=finish))
    return results


# Parallel runs: each process is a kiosk, or a clerk signed in at their own window, with its own
# database connection (the desk staff of 五里桥 in the demo: four of them).
PARALLEL_CLERKS = [("frontdesk", 8), ("backoffice", 1), ("manager", 3), ("mediator", 5)]
Op = Callable[[int], object]


def _child(
    factory: Callable[[int], tuple[Op, Callable[[object], object] | None]],
    index: int,
    count: int,
    barrier: Any,
    out: Any,
) -> None:
    connections.close_all()  # a forked child must not share the parent's socket
    op, reset = factory(index)
    for i in range(10):  # warm up
        value = op(i)
        if reset is not None:
            reset(value)
    barrier.wait()
    timings, values = [], []
    for i in range(count):
        start = time.perf_counter()
        value = op(i)
        timings.append(time.perf_counter() - start)
        if reset is not None:
            reset(value)
        values.append(value)
    out.put((timings, values))
    connections.close_all()


def measure_parallel(
    name: str,
    factory: Callable[[int], tuple[Op, Callable[[object], object] | None]],
    processes: int,
    per_process: int,
) -> tuple[Result, list[object]]:
    """`processes` processes call their op `per_process` times each, all at once; ops/s is the
    total over the wall-clock time from the common start to the last result."""
    context = multiprocessing.get_context("fork")
    connections.close_all()
    barrier, out = context.Barrier(processes + 1), context.Queue()
    children = [
        context.Process(target=_child, args=(factory, index, per_process, barrier, out))
        for index in range(processes)
    ]
    for child in children:
        child.start()
    barrier.wait()
    start = time.perf_counter()
    gathered = [out.get() for _ in children]
    wall = time.perf_counter() - start
    for child in children:
        child.join()
        if child.exitcode != 0:
            sys.exit(f"{name}: a benchmark process failed")
    timings = [t for part, _ in gathered for t in part]
    values = [v for _, part in gathered for v in part]
    return Result(name, timings, None, wall=wall), values


def queue_parallel(processes: int, per_process: int) -> list[Result]:
    """Kiosks issuing and windows calling at the same time: the throughput of one centre, and a
    check that no ticket is called twice (SKIP LOCKED lets the windows pass each other's claim)."""
    clerks = PARALLEL_CLERKS[:processes]
    for username, number in clerks:
        window = Window.objects.get(centre__code=QUEUE_CENTRE, number=number)
        Ticket.objects.filter(window=window, status__in=OPEN_TICKET_STATUSES).update(
            status=TicketStatus.DONE, finished_at=timezone.now()
        )
        queue.sign_in(window=window, clerk=User.objects.get(username=username))

    def kiosk(index: int) -> tuple[Op, None]:
        categories = list(ServiceCategory.objects.select_related("centre").filter(centre__code=QUEUE_CENTRE))
        return (
            lambda i: queue.issue_ticket(category=categories[(i + index) % len(categories)]).ticket.pk
        ), None

    def desk(index: int) -> tuple[Op, Callable[[object], object]]:
        username, number = clerks[index]
        clerk = User.objects.get(username=username)
        window = Window.objects.select_related("centre").get(centre__code=QUEUE_CENTRE, number=number)

        def call(i: int) -> object:
            ticket = queue.call_next(window=window, clerk=clerk)
            assert ticket is not None, "the bench queue ran dry: raise --queue"
            return ticket.pk

        def finish(pk: object) -> object:
            return Ticket.objects.filter(pk=pk).update(status=TicketStatus.DONE, finished_at=timezone.now())

        return call, finish

    issued, numbers = measure_parallel(
        f"queue: issue ticket, {processes} kiosks in parallel", kiosk, processes, per_process
    )
    called, pks = measure_parallel(
        f"queue: call next, {processes} windows in parallel", desk, processes, per_process
    )
    assert len(set(numbers)) == len(numbers)
    if len(set(pks)) != len(pks):
        sys.exit("call next handed the same ticket to two windows")
    return [issued, called]


def run(cases: int, repeat: int, waiting: int = 5000, processes: int = 4, persons: int = 0) -> list[Result]:
    if connection.vendor != "postgresql":
        sys.exit("benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the display's version counter lives there without Redis
    call_command("load_demo", "--base", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("load_matters", stdout=open(os.devnull, "w"))  # noqa: SIM115
    generate(cases)
    if persons:
        residents.generate_people(persons)
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
    results += queue_results(repeat, waiting)
    results += queue_parallel(processes, repeat // processes * 2)
    if persons:
        results += residents.search_operations(repeat, measure)
        for name, seconds, rows in residents.import_operations():
            results.append(Result(f"{name}: {rows / seconds:,.0f} rows/s", [seconds], note="one run"))

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


def explain_call_next() -> str:
    """The plan of call-next's claim query, as services.call_next builds it (rolled back)."""
    window = Window.objects.get(centre__code=QUEUE_CENTRE, number=QUEUE_WINDOW)
    queryset = queue.call_order(window, timezone.localdate()).select_for_update(skip_locked=True)[:1]
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def report(results: list[Result], cases: int, repeat: int, waiting: int = 5000, persons: int = 0) -> str:
    raw = next(r for r in results if r.name.startswith("baseline: raw"))
    orm = next(r for r in results if r.name.startswith("baseline: ORM"))
    lines = [
        "# Benchmarks",
        "",
        f"Run {timezone.localtime():%Y-%m-%d %H:%M} on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}), {cases:,} cases in the "
        f"database, {persons:,} persons in the resident database, a queue of {waiting:,} waiting tickets today, {repeat} timed repetitions per operation, "
        'in-process (no HTTP). Rows marked "in parallel" run that many processes at once, each with its '
        "own connection; their ops/s is the total over the wall-clock time.",
        "",
        "| operation | p50 ms | p95 ms | p99 ms | ops/s | queries | p50 vs ORM read | p50 vs raw SQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.p50:.2f} | {r.p95:.2f} | {r.p99:.2f} | {r.rate:,.0f} | "
            f"{'—' if r.queries is None else r.queries} | "
            f"{r.p50 / orm.p50:.1f}× | {r.p50 / raw.p50:.1f}× |"
        )
    lines += ["", "## Inbox query plan", "", "```", explain_inbox(), "```", ""]
    lines += ["## Call-next query plan", "", "```", explain_call_next(), "```", ""]
    if persons:
        lines += residents.report_section()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--queue", type=int, default=5000, help="waiting tickets today at the bench centre")
    parser.add_argument("--processes", type=int, default=4, choices=range(1, len(PARALLEL_CLERKS) + 1))
    parser.add_argument("--persons", type=int, default=0, help="persons in the resident database (0: skip)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    results = run(args.cases, args.repeat, args.queue, args.processes, args.persons)
    text = report(results, args.cases, args.repeat, args.queue, args.persons)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)

    # ---- Grid management (bench/grid.py): point-in-grid and Open311 intake, written as its own
    # section of the same file. BENCH_GRID=0 skips it.
    if os.environ.get("BENCH_GRID", "1") != "0":
        import grid

        grid.run_into(Path(args.out))


if __name__ == "__main__":
    main()
