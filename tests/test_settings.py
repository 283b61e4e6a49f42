"""The settings the issue fixes, and the env helpers' loud failures."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shequ import settings as settings_module


def test_production_hasher_is_argon2():
    # conftest swaps in a fast hasher per test; the module value is what production runs.
    assert settings_module.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_locale_and_time():
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in settings.LANGUAGES


def test_debug_is_off_unless_asked():
    assert settings_module.DEBUG is False


def test_secret_key_is_generated_once_into_var():
    key_file = settings_module.VAR_DIR / "secret_key"
    assert key_file.exists() and key_file.read_text().strip() == settings.SECRET_KEY


@pytest.mark.parametrize("raw", ["maybe", "2"])
def test_env_bool_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("SHEQU_SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SHEQU_SOME_FLAG"):
        settings_module.env_bool("SHEQU_SOME_FLAG", False)


def test_env_int_fails_loudly(monkeypatch):
    monkeypatch.setenv("SHEQU_SOME_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="SHEQU_SOME_INT"):
        settings_module.env_int("SHEQU_SOME_INT", 1)
