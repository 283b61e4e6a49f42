"""Message templates: a registry keyed by slug, each a Chinese subject and body written as Django
template strings.

Other modules add theirs with `register_template(slug, subject, body)` (typically from their
`AppConfig.ready()`); `services.notify` looks the slug up and renders at the time of the event.
Rendering is plain text (autoescape off: SMS and e-mail are not HTML; the inbox page escapes when
it displays) in the platform language (`settings.LANGUAGE_CODE`), since the recipient is not the
person whose request happened to trigger the message.

Values in the context:
- aware `datetime`, or its ISO string with an offset (``2026-03-02T09:30:00+08:00``) → shown as
  Shanghai local time ``YYYY-MM-DD HH:MM``; the outbox row stores the ISO string;
- `date` → ``YYYY-MM-DD``; other values as they are (they must be JSON-serialisable).
A naive datetime object is refused; a string without an offset is left as it is. The
`local_minute` filter formats explicitly: ``{{ due_at|local_minute }}``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine, Library, Template
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class MessageTemplate:
    slug: str
    subject: str | Promise
    body: str | Promise


_REGISTRY: dict[str, MessageTemplate] = {}


def format_local_minute(value: Any) -> Any:
    """An aware datetime (or its ISO string) as Shanghai local ``YYYY-MM-DD HH:MM``.

    Anything else is returned unchanged. A naive datetime is refused: time is aware (§4.9).
    """
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            return value
        if parsed.tzinfo is None:  # already local wall-clock text, e.g. rendered once before
            parsed = parsed.replace(tzinfo=DISPLAY_TZ)
        value = parsed
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} in a notification context; use an aware datetime")
        return value.astimezone(DISPLAY_TZ).strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# The filter library of this module (`register` is the name a template engine looks up).
register = Library()
register.filter("local_minute", format_local_minute)

# A private engine: plain text (no autoescape), the default tags and filters plus `local_minute`,
# independent of the project's TEMPLATES setting.
_ENGINE = Engine(autoescape=False, builtins=["shequ.notifications.templates"])


def register_template(slug: str, subject: str | Promise, body: str | Promise) -> MessageTemplate:
    """Add (or replace) the template `slug`, e.g. ``"workorder.assigned"``."""
    if not SLUG_RE.match(slug):
        raise ValueError(f"notification template slug {slug!r} must look like 'module.event'")
    template = MessageTemplate(slug=slug, subject=subject, body=body)
    _REGISTRY[slug] = template
    return template


def get_template(slug: str) -> MessageTemplate:
    try:
        return _REGISTRY[slug]
    except KeyError:
        raise ValueError(f"unknown notification template {slug!r}") from None


def registered_slugs() -> list[str]:
    return sorted(_REGISTRY)


def to_json_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as stored on the outbox row: datetimes as ISO strings (Shanghai offset)."""
    return {str(key): _to_json(value) for key, value in context.items()}


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        format_local_minute(value)  # refuses a naive datetime
        return value.astimezone(DISPLAY_TZ).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


_ISO_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _to_display(value: Any) -> Any:
    if isinstance(value, dt.date):  # datetime is a date too
        return format_local_minute(value)
    if isinstance(value, str) and _ISO_DATETIME_RE.match(value):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return format_local_minute(parsed)
    if isinstance(value, Mapping):
        return {k: _to_display(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_display(v) for v in value]
    return value


def render(slug: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `slug` for `context`, in the platform language."""
    template = get_template(slug)
    display = {str(key): _to_display(value) for key, value in context.items()}
    with translation.override(settings.LANGUAGE_CODE):
        subject = _render_string(str(template.subject), display)
        body = _render_string(str(template.body), display)
    # A subject is one line; bodies keep their line breaks but not stray outer whitespace.
    return " ".join(subject.split()), body.strip()


def _render_string(source: str, context: dict[str, Any]) -> str:
    return Template(source, engine=_ENGINE).render(Context(context, autoescape=False))


# --- The work-order engine's messages ---------------------------------------------------------
# Context keys: number (工单编号), title, due_at (aware datetime), and per template the extra keys
# named in its body. Optional keys are guarded with {% if %}.

register_template(
    "workorder.assigned",
    _("新的待办工单 {{ number }}"),
    _("您有新的待办工单 {{ number }}：{{ title }}{% if due_at %}，请于 {{ due_at }} 前处理{% endif %}。"),
)
register_template(
    "workorder.warning",
    _("工单临期提醒 {{ number }}"),
    _("您承办的工单 {{ number }}：{{ title }} 即将到期，请于 {{ due_at }} 前处理。"),
)
register_template(
    "workorder.overdue",
    _("工单超期提醒 {{ number }}"),
    _("您承办的工单 {{ number }}：{{ title }} 已超过办理期限（{{ due_at }}），请尽快处理。"),
)
register_template(
    "workorder.escalated",
    _("工单催办 {{ number }}"),
    _(
        "催办：{{ department }}承办的工单 {{ number }}：{{ title }} 已超过办理期限（{{ due_at }}），"
        "请督促尽快办理。"
    ),
)
register_template(
    "workorder.supplement_requested",
    _("请补正材料 {{ number }}"),
    _(
        "您办理的事项 {{ title }}（{{ number }}）需要补正材料：{{ reason }}。"
        "{% if due_at %}请于 {{ due_at }} 前补正。{% else %}请尽快补正。{% endif %}"
    ),
)
register_template(
    "workorder.closed",
    _("工单已办结 {{ number }}"),
    _(
        "您的工单 {{ number }}：{{ title }} 已办结。"
        "{% if rating_url %}欢迎评价办理结果：{{ rating_url }}{% else %}欢迎对办理结果进行评价。{% endif %}"
    ),
)
register_template(
    "workorder.bad_rating",
    _("差评整改 {{ number }}"),
    _(
        "工单 {{ number }}：{{ title }} 收到差评（{{ rating }}）"
        "{% if comment %}：{{ comment }}{% endif %}。"
        "请核实整改{% if due_at %}，并于 {{ due_at }} 前回访{% endif %}。"
    ),
)
