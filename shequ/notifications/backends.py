"""Channel backends: how an outbox row actually leaves (or lands in the inbox).

A backend is a class with ``send(message: OutboxMessage) -> None`` that raises on failure; the
worker retries with backoff (see `services.deliver_pending`). Delivery is at least once: a worker
that dies between sending and recording may send a message again, so a backend should be
idempotent where it can (`InAppBackend` is).

Chosen per channel by a dotted path in settings, read with ``getattr(settings, name, default)``:

=====================  ==================================================  ======================
setting                default                                             what it does
=====================  ==================================================  ======================
NOTIFY_SMS_BACKEND     shequ.notifications.backends.LogSmsBackend          log line (masked
                                                                           number) + var/sms.log
NOTIFY_EMAIL_BACKEND   shequ.notifications.backends.DjangoEmailBackend     django.core.mail
                                                                           (settings.EMAIL_*)
NOTIFY_INAPP_BACKEND   shequ.notifications.backends.InAppBackend           InAppNotification row
=====================  ==================================================  ======================

The SMS default only logs, so the demo works offline; a real gateway is a class with the same
``send`` set in NOTIFY_SMS_BACKEND.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string

from shequ.core.masking import mask_phone

from .choices import Channel

if TYPE_CHECKING:
    from .models import OutboxMessage

sms_logger = logging.getLogger("shequ.notifications.sms")

SMS_LOG_NAME = "sms.log"

BACKEND_SETTINGS: dict[str, tuple[str, str]] = {
    Channel.SMS: ("NOTIFY_SMS_BACKEND", "shequ.notifications.backends.LogSmsBackend"),
    Channel.EMAIL: ("NOTIFY_EMAIL_BACKEND", "shequ.notifications.backends.DjangoEmailBackend"),
    Channel.INAPP: ("NOTIFY_INAPP_BACKEND", "shequ.notifications.backends.InAppBackend"),
}


class ChannelBackend(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def get_backend(channel: str) -> ChannelBackend:
    """A new instance of the backend configured for `channel`."""
    try:
        setting, default = BACKEND_SETTINGS[channel]
    except KeyError:
        raise ValueError(f"unknown notification channel {channel!r}") from None
    backend_class = import_string(getattr(settings, setting, default))
    return backend_class()


def _one_line(text: str) -> str:
    return " ".join(text.split())


class LogSmsBackend:
    """Writes the SMS to the log (number masked) and appends it to ``VAR_DIR/sms.log``."""

    def send(self, message: OutboxMessage) -> None:
        if not message.address:
            raise ValueError("SMS without a phone number")
        line = f"SMS to {mask_phone(message.address)}: {_one_line(message.body)}"
        sms_logger.info(line)
        var_dir = getattr(settings, "VAR_DIR", None)
        if var_dir is not None and Path(var_dir).is_dir():
            stamp = timezone.localtime().isoformat(timespec="seconds")
            with (Path(var_dir) / SMS_LOG_NAME).open("a", encoding="utf-8") as fh:
                fh.write(f"{stamp} #{message.pk} {line}\n")


class DjangoEmailBackend:
    """Sends through Django's mail machinery (EMAIL_BACKEND, EMAIL_HOST, DEFAULT_FROM_EMAIL...)."""

    def send(self, message: OutboxMessage) -> None:
        if not message.address:
            raise ValueError("e-mail without an address")
        send_mail(
            subject=_one_line(message.subject),
            message=message.body,
            from_email=None,
            recipient_list=[message.address],
            fail_silently=False,
        )


class InAppBackend:
    """Puts the message in the recipient's inbox, once per outbox row."""

    def send(self, message: OutboxMessage) -> None:
        from .models import InAppNotification

        if message.recipient_user_id is None:
            raise ValueError("in-app message without a recipient (user deleted?)")
        link = message.context.get("link", "") if isinstance(message.context, dict) else ""
        InAppNotification.objects.get_or_create(
            outbox=message,
            defaults={
                "user_id": message.recipient_user_id,
                "title": message.subject[:200],
                "body": message.body,
                "link": link if isinstance(link, str) else "",
                "created_at": message.created_at,
            },
        )
