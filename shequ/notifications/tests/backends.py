"""Channel backends for tests, set by dotted path in NOTIFY_*_BACKEND."""

from __future__ import annotations

import threading
from typing import ClassVar

from shequ.notifications.models import OutboxMessage


class FailingBackend:
    def send(self, message: OutboxMessage) -> None:
        raise ConnectionError("短信网关不可用 (gateway down)")


class RecordingBackend:
    """Remembers the ids it sent, across threads."""

    sent: ClassVar[list[int]] = []
    _lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.sent = []

    def send(self, message: OutboxMessage) -> None:
        with self._lock:
            self.sent.append(message.pk)
