"""Load the deterministic demo data. Safe to run again: it updates in place, never duplicates.

Later modules extend the demo by registering a loader with `shequ.core.demo.register`.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from shequ.accounts.models import Department, RoleAssignment, User
from shequ.core.demo import loaders
from shequ.core.demo.people import DEMO_PASSWORD, DEPARTMENTS, USERS
from shequ.core.demo.places import demo_places
from shequ.places.models import Place

DEMO_APPOINTED = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DISTRICTS_CSV = Path(__file__).resolve().parents[3] / "places" / "data" / "shanghai_districts.csv"


def _upsert_place(
    code: str, name: str, kind: str, parent_code: str | None, geometry=None, source=""
) -> Place:
    parent = Place.objects.get(code=parent_code) if parent_code else None
    place, _created = Place.objects.update_or_create(
        code=code,
        defaults={"name": name, "kind": kind, "parent": parent, "geometry": geometry, "source": source},
    )
    return place


def load_places() -> int:
    count = 0
    with DISTRICTS_CSV.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            _upsert_place(
                row["code"], row["name"], row["kind"], row.get("parent_code") or None, source="GB/T 2260"
            )
            count += 1
    for p in demo_places():
        _upsert_place(p.code, p.name, p.kind, p.parent_code, p.geometry, source="演示数据")
        count += 1
    return count


def load_staff() -> int:
    departments: dict[tuple[str, str], Department] = {}
    for place_code, code, name in DEPARTMENTS:
        dept, _ = Department.objects.update_or_create(
            place=Place.objects.get(code=place_code), code=code, defaults={"name": name}
        )
        departments[(place_code, code)] = dept
    for spec in USERS:
        user, created = User.objects.get_or_create(username=spec.username)
        user.full_name, user.phone = spec.full_name, spec.phone
        user.is_superuser = user.is_staff = spec.role is None
        if created or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
        user.save()
        if spec.role:
            member_of = departments[(spec.place_code, spec.department)] if spec.department else None
            RoleAssignment.objects.get_or_create(
                user=user,
                role=spec.role,
                place=Place.objects.get(code=spec.place_code),
                department=member_of,
                revoked_at=None,
                # Appointed long ago, so tests that travel in time still find the roles active.
                defaults={"valid_from": DEMO_APPOINTED},
            )
    head = User.objects.get(username="backoffice")
    Department.objects.filter(place__code="310101020", code="civil-affairs").update(head=head)
    return len(USERS)


class Command(BaseCommand):
    help = "Load the demo data (places, staff and what later modules register). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print-logins", action="store_true", help="print the demo logins afterwards")
        parser.add_argument(
            "--base",
            action="store_true",
            help="only places and staff, not the modules' data (fast, for tests)",
        )

    def handle(self, *args, print_logins: bool = False, base: bool = False, **options) -> None:
        with transaction.atomic():
            places = load_places()
            users = load_staff()
            extra = "" if base else loaders.run_all(self.stdout)
        self.stdout.write(f"demo data: {places} places, {users} users{extra}")
        if print_logins:
            self.stdout.write(logins_text())


def logins_text() -> str:
    lines = ["", f"演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins (password {DEMO_PASSWORD}):"]
    for spec in USERS:
        role = spec.role or "superuser"
        lines.append(f"  {spec.username:<16} {spec.full_name:<6} {role:<22} {spec.place_code}")
    return "\n".join(lines)
