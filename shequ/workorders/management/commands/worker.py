"""The background loop (DESIGN §2): sweep deadlines, deliver the outbox, forget old idempotency
keys, and run the jobs other modules register in `shequ.core.periodic`. One process on SQLite;
any number on PostgreSQL, where rows are claimed with SELECT … FOR UPDATE SKIP LOCKED so two
workers never take the same row."""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from shequ.core import idempotency, periodic
from shequ.notifications.services import deliver_pending
from shequ.workorders.services import sweep

log = logging.getLogger("shequ.worker")


class Command(BaseCommand):
    help = "Run the background worker: SLA sweep, notification delivery, housekeeping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one round and exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")

    def handle(self, *args, once: bool, interval: float, **options) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_housekeeping = 0.0
        while not stopping:
            if not connection.in_atomic_block:  # (a test runs the worker inside its transaction)
                close_old_connections()  # drop connections the database has closed or that are too old
            result = sweep()
            sent = deliver_pending()
            for name, changed in periodic.run_due().items():
                if changed:
                    log.info("%s: %d", name, changed)
            if time.monotonic() - last_housekeeping > 3600:
                idempotency.prune()
                last_housekeeping = time.monotonic()
            if result.warned or result.overdue or sent:
                log.info(
                    "warned %d, overdue %d, escalated %d, sent %d",
                    result.warned,
                    result.overdue,
                    result.escalated,
                    sent,
                )
            if once:
                self.stdout.write(
                    f"warned {result.warned}, overdue {result.overdue}, escalated {result.escalated}, sent {sent}"
                )
                return
            time.sleep(interval)
