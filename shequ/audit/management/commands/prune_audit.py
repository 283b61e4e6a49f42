"""Delete audit rows older than AUDIT_RETENTION_DAYS, in batches, and log that it did."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from shequ.audit.models import AccessLog, ChangeAction, ChangeLog
from shequ.audit.services import record_change

ACTOR = "manage.py prune_audit"


class Command(BaseCommand):
    help = "Delete audit rows older than the retention period (AUDIT_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="override AUDIT_RETENTION_DAYS")
        parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, days: int | None, dry_run: bool, batch: int, **options) -> None:
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 180:
            # Cybersecurity Law art. 21: network logs are kept at least six months.
            self.stderr.write("retention under 180 days is refused (Cybersecurity Law art. 21)")
            raise SystemExit(2)
        cutoff = timezone.now() - timedelta(days=days)
        totals = {}
        for model in (ChangeLog, AccessLog):
            old = model.objects.filter(created_at__lt=cutoff)
            if dry_run:
                totals[model._meta.label_lower] = old.count()
                continue
            deleted = 0
            while True:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL shequ.audit_prune = 'on'")
                    ids = list(old.order_by("id").values_list("id", flat=True)[:batch])
                    if not ids:
                        break
                    deleted += model.objects.filter(id__in=ids)._raw_delete(model.objects.db)
            totals[model._meta.label_lower] = deleted
        if not dry_run:
            with transaction.atomic():
                record_change(
                    actor=ACTOR,
                    action=ChangeAction.PRUNE,
                    object_type="audit",
                    object_repr=f"older than {cutoff:%Y-%m-%d}",
                    after={"cutoff": cutoff.isoformat(), "deleted": totals},
                    only_changes=False,
                )
        verb = "would delete" if dry_run else "deleted"
        for label, n in totals.items():
            self.stdout.write(f"{label}: {verb} {n} rows older than {cutoff:%Y-%m-%d}")
