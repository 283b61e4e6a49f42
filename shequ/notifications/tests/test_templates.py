"""Rendering: Chinese text, Shanghai wall-clock time, fixed at the time of the event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from shequ.notifications import templates
from shequ.notifications.services import notify

DUE = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai

SAMPLES: dict[str, dict[str, Any]] = {
    "workorder.assigned": {"number": "WG20260302001", "title": "井盖缺失", "due_at": DUE},
    "workorder.warning": {"number": "WG1", "title": "井盖缺失", "due_at": DUE},
    "workorder.overdue": {"number": "WG1", "title": "井盖缺失", "due_at": DUE},
    "workorder.escalated": {"number": "WG1", "title": "井盖缺失", "due_at": DUE, "department": "城建科"},
    "workorder.supplement_requested": {"number": "SW1", "title": "居住证明", "reason": "缺少租赁合同"},
    "workorder.closed": {"number": "WG1", "title": "井盖缺失", "rating_url": "/r/abc/"},
    "workorder.bad_rating": {"number": "WG1", "title": "井盖缺失", "rating": "不满意", "comment": "没修好"},
}


def test_assigned_in_chinese_with_shanghai_time():
    subject, body = templates.render("workorder.assigned", SAMPLES["workorder.assigned"])
    assert subject == "新的待办工单 WG20260302001"
    assert body == "您有新的待办工单 WG20260302001：井盖缺失，请于 2026-03-02 09:30 前处理。"


def test_same_text_whatever_the_active_language_and_zone():
    """The recipient is not the person whose request triggered the message."""
    with translation.override("en"), timezone.override("Europe/London"):
        _subject, body = templates.render("workorder.assigned", SAMPLES["workorder.assigned"])
    assert "2026-03-02 09:30" in body and "您有新的待办工单" in body


@pytest.mark.parametrize("slug", sorted(SAMPLES))
def test_every_workorder_template_renders(slug):
    subject, body = templates.render(slug, SAMPLES[slug])
    assert subject and body
    assert "{" not in subject + body and "%" not in subject + body
    assert SAMPLES[slug]["number"] in subject


def test_optional_keys():
    _s, with_due = templates.render(
        "workorder.supplement_requested", {**SAMPLES["workorder.supplement_requested"], "due_at": DUE}
    )
    assert with_due.endswith("请于 2026-03-02 09:30 前补正。")
    _s, without = templates.render(
        "workorder.supplement_requested", SAMPLES["workorder.supplement_requested"]
    )
    assert without == "您办理的事项 居住证明（SW1）需要补正材料：缺少租赁合同。请尽快补正。"
    _s, bad = templates.render("workorder.bad_rating", SAMPLES["workorder.bad_rating"])
    assert bad == "工单 WG1：井盖缺失 收到差评（不满意）：没修好。请核实整改。"


def test_plain_text_is_not_html_escaped():
    _s, body = templates.render("workorder.assigned", {"number": "WG1", "title": "A&B <楼>", "due_at": DUE})
    assert "A&B <楼>" in body


def test_unknown_slug_and_bad_slug():
    with pytest.raises(ValueError, match="unknown notification template"):
        templates.render("workorder.nope", {})
    with pytest.raises(ValueError):
        templates.register_template("NoDot", "s", "b")


def test_naive_datetime_refused():
    with pytest.raises(ValueError, match="naive"):
        templates.render(
            "workorder.assigned", {"number": "1", "title": "t", "due_at": dt.datetime(2026, 3, 2)}
        )


def test_aware_iso_strings_are_formatted_too():
    """Callers may pre-serialise: an ISO string with an offset renders like the datetime."""
    context = {"number": "WG1", "title": "井盖", "due_at": "2026-03-02T01:30:00+00:00"}
    _s, body = templates.render("workorder.assigned", context)
    assert "请于 2026-03-02 09:30 前处理" in body
    _s, body = templates.render("workorder.assigned", {**context, "due_at": "2026-03-02T09:30:00"})
    assert "请于 2026-03-02T09:30:00 前处理" in body  # no offset: not guessed
    _s, body = templates.render("workorder.assigned", {**context, "title": "2026-13-45T99:99 不是时间"})
    assert "2026-13-45T99:99 不是时间" in body


def test_local_minute_filter_formats_iso_strings():
    templates.register_template("tests.iso", "{{ at|local_minute }}", "{{ day }} {{ other|local_minute }}")
    subject, body = templates.render(
        "tests.iso", {"at": "2026-03-02T01:30:00+00:00", "day": dt.date(2026, 3, 2), "other": "不是时间"}
    )
    assert subject == "2026-03-02 09:30"
    assert body == "2026-03-02 不是时间"


@pytest.mark.django_db
def test_notify_fixes_the_text_and_stores_iso_context():
    (message,) = notify(
        template="workorder.assigned", context=SAMPLES["workorder.assigned"], phone="13800000001"
    )
    message.refresh_from_db()
    assert message.body == "您有新的待办工单 WG20260302001：井盖缺失，请于 2026-03-02 09:30 前处理。"
    assert message.subject == "新的待办工单 WG20260302001"
    assert message.context["due_at"] == "2026-03-02T09:30:00+08:00"
    assert dt.datetime.fromisoformat(message.context["due_at"]) == DUE
