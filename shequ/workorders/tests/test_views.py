from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shequ.accounts.services import token_issue
from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.workorders import services
from shequ.workorders.attachments import attach
from shequ.workorders.choices import EventKind
from shequ.workorders.models import Attachment

pytestmark = pytest.mark.django_db


def test_inbox_shows_what_each_role_acts_on(make_order, client_as):
    order = make_order()
    assert order.number in client_as("backoffice").get(reverse("workorders:inbox")).content.decode()
    assert order.number not in client_as("frontdesk").get(reverse("workorders:inbox")).content.decode()
    assert order.number not in client_as("frontdesk_b").get(reverse("workorders:inbox")).content.decode()


def test_inbox_filters_and_query_budget(make_order, client_as, django_assert_max_num_queries):
    for _ in range(30):
        make_order()
    client = client_as("backoffice")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("workorders:inbox"), {"sla_state": "on_time", "size": 20})
    assert page.status_code == 200 and len(page.context["page"].items) == 20
    assert page.context["page"].next_query
    second = client.get(reverse("workorders:inbox") + "?" + page.context["page"].next_query)
    numbers = {o.number for o in page.context["page"].items} | {
        o.number for o in second.context["page"].items
    }
    assert len(numbers) == 30
    assert not client.get(reverse("workorders:inbox"), {"sla_state": "overdue"}).context["page"].items


def test_detail_is_scoped(make_order, client_as):
    order = make_order()
    assert client_as("backoffice").get(reverse("workorders:detail", args=[order.number])).status_code == 200
    assert client_as("frontdesk_b").get(reverse("workorders:detail", args=[order.number])).status_code == 404
    assert client_as("inspector").get(reverse("workorders:detail", args=[order.number])).status_code == 404
    page = client_as("leader").get(reverse("workorders:detail", args=[order.number])).content.decode()
    assert "139****5678" in page and "13912345678" not in page


def test_double_clicked_action_runs_once_and_stale_page_is_told(make_order, client_as):
    order = make_order()
    client = client_as("backoffice")
    form = {"action": "approve", "comment": "", "version": order.version, FORM_FIELD: new_key()}
    first = client.post(reverse("workorders:act", args=[order.number]), form, follow=True)
    second = client.post(reverse("workorders:act", args=[order.number]), form, follow=True)
    assert "已提交" in first.content.decode() and "已提交" in second.content.decode()
    assert order.events.filter(kind=EventKind.ADVANCED).count() == 1
    stale = dict(form, **{FORM_FIELD: new_key()})
    response = client_as("leader").post(reverse("workorders:act", args=[order.number]), stale, follow=True)
    assert "已由 刘洋" in response.content.decode()


def test_missing_comment_is_named(make_order, client_as):
    order = make_order()
    response = client_as("backoffice").post(
        reverse("workorders:act", args=[order.number]),
        {"action": "reject", "version": order.version, FORM_FIELD: new_key()},
        follow=True,
    )
    assert "需要填写理由" in response.content.decode()
    order.refresh_from_db()
    assert order.step == "examining"


def test_api_inbox_detail_and_action(make_order, personas, client):
    order = make_order()
    _token, secret = token_issue(by=personas["backoffice"], user=personas["backoffice"], name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    inbox = client.get("/api/v1/workorders/", **auth).json()
    assert [o["number"] for o in inbox["items"]] == [order.number]
    assert inbox["items"][0]["subject_phone"] == "139****5678"
    detail = client.get(f"/api/v1/workorders/{order.number}", **auth).json()
    assert detail["actions"] == ["approve", "reject"]
    key = {"HTTP_IDEMPOTENCY_KEY": new_key()}
    body = {"action": "approve", "version": 1}
    done = client.post(
        f"/api/v1/workorders/{order.number}/actions", body, content_type="application/json", **auth, **key
    )
    again = client.post(
        f"/api/v1/workorders/{order.number}/actions", body, content_type="application/json", **auth, **key
    )
    assert done.status_code == again.status_code == 200 and done.json()["step"] == "delivering"
    stale = client.post(
        f"/api/v1/workorders/{order.number}/actions", body, content_type="application/json", **auth
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    wrong = client.post(
        f"/api/v1/workorders/{order.number}/actions",
        {"action": "fly"},
        content_type="application/json",
        **auth,
    )
    assert wrong.status_code == 400 and "不能执行" in wrong.json()["error"]["fields"]["__all__"][0]
    assert client.get("/api/v1/workorders/NOPE", **auth).status_code == 404


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (31.0, 12.0, 0.0)}  # GPS IFD: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photo_exif_is_stripped_and_duplicates_kept_once(make_order, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = make_order()
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif()
    stored = attach(order=order, by=personas["backoffice"], upload=SimpleUploadedFile("现场.jpg", data))
    assert stored.is_photo and stored.content_type == "image/jpeg"
    with stored.file.open("rb") as handle:
        assert not Image.open(handle).getexif()
    again = attach(order=order, by=personas["backoffice"], upload=SimpleUploadedFile("现场.jpg", data))
    assert again.pk == stored.pk and Attachment.objects.count() == 1
    assert order.events.filter(kind=EventKind.ATTACHED).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("fake.pdf", b"\xff\xd8\xff\xe0 not a pdf", "内容与扩展名不符"),
        ("empty.pdf", b"", "是空的"),
    ],
)
def test_bad_uploads_are_refused_by_name(make_order, personas, name, content, message, settings, tmp_path):
    from django.core.exceptions import ValidationError

    settings.MEDIA_ROOT = tmp_path
    order = make_order()
    with pytest.raises(ValidationError, match=message):
        attach(order=order, by=personas["backoffice"], upload=SimpleUploadedFile(name, content))
    assert not Attachment.objects.exists()


def test_upload_size_limit(make_order, personas, settings, tmp_path):
    from django.core.exceptions import ValidationError

    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_MAX_MB = 1
    order = make_order()
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError, match="超过 1 MB"):
        attach(order=order, by=personas["backoffice"], upload=SimpleUploadedFile("big.pdf", big))


def test_upload_through_the_page(make_order, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = make_order()
    client = client_as("backoffice")
    response = client.post(
        reverse("workorders:upload", args=[order.number]),
        {"file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 test"), FORM_FIELD: new_key()},
        follow=True,
    )
    assert "附件已上传" in response.content.decode()
    refused = client.post(
        reverse("workorders:upload", args=[order.number]),
        {"file": SimpleUploadedFile("x.exe", b"MZ"), FORM_FIELD: new_key()},
        follow=True,
    )
    assert "不支持的文件类型" in refused.content.decode()


def test_rating_through_the_page(make_order, personas, client_as):
    order = make_order()
    services.perform(order=order, by=personas["backoffice"], action="approve")
    services.perform(order=order, by=personas["frontdesk"], action="deliver")
    client = client_as("frontdesk")
    page = client.get(reverse("workorders:detail", args=[order.number])).content.decode()
    assert "非常满意" in page
    client.post(reverse("workorders:rate", args=[order.number]), {"level": 1, FORM_FIELD: new_key()})
    order.refresh_from_db()
    assert order.rating == 1 and order.rating_record.follow_up is not None
