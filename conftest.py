"""Shared test fixtures: the demo data as personas, and a quick password hasher.

Personas are the demo users (README lists them): `frontdesk` (clerk of 五里桥街道),
`frontdesk_b` (clerk of 打浦桥街道), `inspector`, `dispatcher`, `committee`, `leader`,
`district_leader`, `resident`, ... so every view test checks both access and denial on the same
data a person sees in `make run`.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

# Argon2 is what production uses (asserted in tests/test_settings.py); tests hash thousands of
# times, so they use a fast hasher instead.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _private_cache(settings, request):
    """Each test gets an empty in-process cache (production shares one through the database or
    Redis; the rate-limit logic is the same against any backend)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Uploads and the SMS log of a test go to its own folder, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path


@pytest.fixture
def demo(db):
    """The demo places and staff, loaded into this test's transaction."""
    call_command("load_demo", "--base", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def full_demo(db):
    """Everything `make run` shows, modules' data included (slower: for crawls and journeys)."""
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def personas(demo):
    from shequ.accounts.models import User

    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def client_as(client, personas):
    """`client_as("frontdesk")` → a test client signed in as that demo user."""

    def login(username: str):
        client.force_login(personas[username])
        return client

    return login
