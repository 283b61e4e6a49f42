from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from shequ.audit.models import AccessAction, AccessLog, ChangeAction, ChangeLog
from shequ.audit.services import record_access, record_change, snapshot
from shequ.places.models import Place

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def test_change_row_keeps_actor_diff_request_id_and_ip(personas):
    place = Place.objects.get(code="310101020001")
    before = snapshot(place)
    place.name = "桥一居委会（新）"
    from shequ.audit import context

    token = context.bind(context.RequestContext(request_id="req-abc-123456", ip="10.1.2.3"))
    try:
        row = record_change(
            actor=personas["leader"],
            action=ChangeAction.UPDATE,
            obj=place,
            before=before,
            after=snapshot(place),
        )
    finally:
        context.unbind(token)
    row.refresh_from_db()
    assert row.actor_id == personas["leader"].pk and row.actor_name == "王建国"
    assert row.before == {"name": "桥一居委会"} and row.after == {"name": "桥一居委会（新）"}
    assert row.request_id == "req-abc-123456" and row.ip == "10.1.2.3"
    assert row.object_type == "places.place" and row.object_id == str(place.pk)


def test_every_response_carries_a_request_id(client):
    response = client.get(reverse("core:entry"))
    assert len(response["X-Request-ID"]) == 32
    kept = client.get(reverse("core:entry"), HTTP_X_REQUEST_ID="abcdefgh-1234")
    assert kept["X-Request-ID"] == "abcdefgh-1234"
    hostile = client.get(reverse("core:entry"), HTTP_X_REQUEST_ID="<script>")
    assert hostile["X-Request-ID"] != "<script>"


def test_access_needs_a_purpose(personas):
    with pytest.raises(ValueError):
        record_access(actor=personas["leader"], action=AccessAction.REVEAL, subject_type="x", purpose="  ")
    assert not AccessLog.objects.exists()


def test_rolled_back_change_leaves_no_log(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_change(actor=personas["leader"], action=ChangeAction.CREATE, object_type="x")
        raise RuntimeError
    assert not ChangeLog.objects.filter(object_type="x").exists()


@on_postgres
def test_database_refuses_update_and_delete(personas):
    row = record_change(actor=personas["leader"], action=ChangeAction.CREATE, object_type="x")
    access = record_access(
        actor=personas["leader"], action=AccessAction.VIEW, subject_type="x", purpose="测试"
    )
    for model, pk in ((ChangeLog, row.pk), (AccessLog, access.pk)):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model.objects.filter(pk=pk).update(actor_name="someone else")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model.objects.filter(pk=pk).delete()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
    assert ChangeLog.objects.filter(pk=row.pk, actor_name="王建国").exists()


def test_prune_deletes_only_rows_past_retention(personas, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = record_change(actor=personas["leader"], action=ChangeAction.CREATE, object_type="old")
    new = record_change(actor=personas["leader"], action=ChangeAction.CREATE, object_type="new")
    old_access = record_access(
        actor=personas["leader"], action=AccessAction.VIEW, subject_type="old", purpose="测试"
    )
    # Back-date through the same window the command opens (the trigger refuses any UPDATE).
    long_ago = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        for table, pk in (("audit_changelog", old.pk), ("audit_accesslog", old_access.pk)):
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(f"UPDATE {table} SET created_at = %s WHERE id = %s", [long_ago, pk])
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    out = StringIO()
    call_command("prune_audit", "--dry-run", stdout=out)
    assert "would delete 1 rows" in out.getvalue()
    assert ChangeLog.objects.filter(pk=old.pk).exists()
    call_command("prune_audit", stdout=StringIO())
    assert not ChangeLog.objects.filter(pk=old.pk).exists()
    assert not AccessLog.objects.filter(pk=old_access.pk).exists()
    assert ChangeLog.objects.filter(pk=new.pk).exists()
    assert ChangeLog.objects.filter(action=ChangeAction.PRUNE).exists()


def test_prune_refuses_retention_below_six_months():
    with pytest.raises(SystemExit):
        call_command("prune_audit", "--days", "30", stderr=StringIO())


def test_log_pages_are_scoped(client_as, personas):
    record_change(
        actor=personas["leader"],
        action=ChangeAction.UPDATE,
        object_type="x",
        object_repr="五里桥的事",
        place_code="310101020001",
    )
    record_change(
        actor=personas["leader"],
        action=ChangeAction.UPDATE,
        object_type="x",
        object_repr="打浦桥的事",
        place_code="310101021001",
    )
    page = client_as("leader").get(reverse("audit:changes")).content.decode()
    assert "五里桥的事" in page and "打浦桥的事" not in page
    assert client_as("frontdesk").get(reverse("audit:changes")).status_code == 403
    assert client_as("manager").get(reverse("audit:access")).status_code == 403
