from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from shequ.accounts import services
from shequ.accounts.models import ApiToken
from shequ.audit.models import ChangeAction, ChangeLog
from shequ.core.demo.people import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_demo_password_lands_on_home(client, demo):
    response = client.post(
        reverse("accounts:login"), {"username": "frontdesk", "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("core:home")
    assert "工作台" in response.content.decode()
    assert ChangeLog.objects.filter(action=ChangeAction.LOGIN, actor_name="张丽").exists()


def test_wrong_password_says_so_in_chinese_and_is_logged(client, demo):
    response = client.post(reverse("accounts:login"), {"username": "frontdesk", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert ChangeLog.objects.filter(action=ChangeAction.LOGIN_FAILED, object_repr="frontdesk").exists()


def test_lockout_after_repeated_failures_even_with_right_password(client, demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "frontdesk", "password": "wrong-password"})
    response = client.post(reverse("accounts:login"), {"username": "frontdesk", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    # another user from the same address is not locked
    response = client.post(reverse("accounts:login"), {"username": "leader", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_token_lifecycle_through_the_api(client, personas):
    user = personas["frontdesk"]
    token, secret = services.token_issue(by=user, user=user, name="统计脚本", expires_in_days=30)
    assert ApiToken.objects.get(pk=token.pk).digest != secret and secret not in str(
        ApiToken.objects.values().get()
    )
    me = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "frontdesk" and body["jurisdiction"] == ["310101020"]
    assert body["phone"] == "138****0004"
    services.token_revoke(by=user, token=token)
    revoked = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert revoked.status_code == 401
    assert "撤销" in revoked.json()["error"]["message"]


def test_expired_and_unknown_tokens_get_clear_messages(client, personas):
    user = personas["frontdesk"]
    token, secret = services.token_issue(by=user, user=user, name="x", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert expired.status_code == 401 and "过期" in expired.json()["error"]["message"]
    unknown = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer sq_not-a-real-token")
    assert unknown.status_code == 401 and "无效" in unknown.json()["error"]["message"]
    anonymous = client.get("/api/v1/accounts/me")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"


def test_token_page_shows_secret_once_and_revokes(client_as):
    client = client_as("frontdesk")
    response = client.post(reverse("accounts:tokens"), {"name": "对接", "expires_in_days": 30})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.startswith("sq_") and secret in response.content.decode()
    assert secret not in client.get(reverse("accounts:tokens")).content.decode()
    token = ApiToken.objects.get(name="对接")
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_token_form_rejects_bad_input_by_field(client_as):
    response = client_as("frontdesk").post(reverse("accounts:tokens"), {"name": "", "expires_in_days": 0})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_cannot_revoke_someone_elses_token(client_as, personas):
    other = personas["leader"]
    token, _ = services.token_issue(by=other, user=other, name="x")
    response = client_as("frontdesk").post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_issue_token_command(personas, client):
    out = StringIO()
    call_command("issue_token", "dispatcher", stdout=out)
    secret = out.getvalue().strip()
    assert (
        client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["username"]
        == "dispatcher"
    )
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody")


def test_staff_page_masks_phones_and_reveal_is_logged(client_as, personas):
    from shequ.audit.models import AccessLog

    client = client_as("manager")
    page = client.get(reverse("accounts:staff")).content.decode()
    assert "138****0004" in page and "13800210004" not in page
    assert "马超" not in page  # staff of the other street
    target = personas["frontdesk"]
    missing_reason = client.post(reverse("accounts:reveal_phone", args=[target.pk]), {"purpose": ""})
    assert missing_reason.status_code == 400 and "请填写查看原因" in missing_reason.content.decode()
    assert not AccessLog.objects.exists()
    revealed = client.post(reverse("accounts:reveal_phone", args=[target.pk]), {"purpose": "核对值班安排"})
    assert "13800210004" in revealed.content.decode()
    log = AccessLog.objects.get()
    assert log.purpose == "核对值班安排" and log.fields == ["phone"] and "13800210004" not in log.subject_repr
    other_street = personas["frontdesk_b"]
    assert (
        client.post(
            reverse("accounts:reveal_phone", args=[other_street.pk]), {"purpose": "x" * 5}
        ).status_code
        == 404
    )


def test_staff_page_forbidden_for_clerks(client_as):
    assert client_as("frontdesk").get(reverse("accounts:staff")).status_code == 403
