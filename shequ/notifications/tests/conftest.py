from __future__ import annotations

import pytest

from .backends import RecordingBackend


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """The log SMS backend appends to VAR_DIR/sms.log: keep tests out of the real var/."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def recording_sms(settings):
    settings.NOTIFY_SMS_BACKEND = "shequ.notifications.tests.backends.RecordingBackend"
    RecordingBackend.reset()
    return RecordingBackend


@pytest.fixture
def failing_sms(settings):
    settings.NOTIFY_SMS_BACKEND = "shequ.notifications.tests.backends.FailingBackend"
