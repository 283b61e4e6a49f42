from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse

from shequ.accounts.models import ApiToken
from shequ.core.idempotency import FORM_FIELD, new_key, run_once
from shequ.core.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def identity(value):
    return value


def once(action, *, key="k" * 10, user_id=1, scope="s"):
    return run_once(key=key, user_id=user_id, scope=scope, action=action, encode=identity, decode=identity)


def test_second_run_with_same_key_replays_first_result():
    calls = []

    def action():
        calls.append(1)
        return len(calls)

    first = once(action)
    second = once(action)
    assert (first.value, first.replayed) == (1, False)
    assert (second.value, second.replayed) == (1, True)
    assert calls == [1]
    other_user = once(action, user_id=2)
    assert other_user.value == 2 and not other_user.replayed


def test_anonymous_requests_are_deduplicated_too():
    calls: list[int] = []

    def action() -> int:
        calls.append(1)
        return len(calls)

    first = once(action, user_id=None)
    second = once(action, user_id=None)
    assert first.value == second.value == 1 and second.replayed and calls == [1]


def test_failed_action_releases_the_key():
    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        once(boom)
    assert not IdempotencyKey.objects.exists()


def test_integrity_error_inside_the_action_is_not_mistaken_for_a_replay():
    def clash():
        IdempotencyKey.objects.create(user_id=9, scope="t", key="y" * 10)
        IdempotencyKey.objects.create(user_id=9, scope="t", key="y" * 10)

    with pytest.raises(IntegrityError):
        once(clash)


def test_double_submitted_token_form_creates_one_token(client_as):
    client = client_as("frontdesk")
    data = {"name": "对接", "expires_in_days": 30, FORM_FIELD: new_key()}
    first = client.post(reverse("accounts:tokens"), data)
    second = client.post(reverse("accounts:tokens"), data)
    assert first.context["new_secret"] and second.context["new_secret"] is None
    assert "该请求已处理过" in second.content.decode()
    assert ApiToken.objects.filter(name="对接").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_do_the_work_once():
    import threading

    from django.db import connections

    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait()
            outcome = once(lambda: IdempotencyKey.objects.filter(scope="race").count(), scope="race")
            results.append(outcome.replayed)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True, True, True]
    assert IdempotencyKey.objects.filter(scope="race").count() == 1
