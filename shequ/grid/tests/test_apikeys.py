"""The API-key page: who may see it, issuing a key shown once, idempotent create, revoking, and
the area rules (keys and places outside the user's area are neither listed nor accepted)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.grid.apikey_views import issue_key
from shequ.grid.models import ApiKey
from shequ.places.models import Place

pytestmark = pytest.mark.django_db

URL = reverse("grid:apikeys")
SHOWN = re.compile(r'data-testid="new-apikey">([^<]+)<')


def create(client, *, place: str = "310101020", name: str = "市民随手拍", idem: str = "key-create-000001"):
    return client.post(
        URL, {"action": "create", "name": name, "contact": "李工", "place": place, "idempotency_key": idem}
    )


def test_only_the_centres_open_the_page(client, client_as):
    assert client.get(URL).status_code == 302  # to the login page
    for username in ("resident", "handler", "inspector", "frontdesk_b"):
        assert client_as(username).get(URL).status_code == 403
    for username in ("supervisor", "dispatcher", "leader", "district_leader"):
        assert client_as(username).get(URL).status_code == 200


def test_a_new_key_is_shown_once_and_only_its_digest_is_kept(client_as, personas):
    client = client_as("supervisor")
    response = create(client)
    assert response.status_code == 302 and response["Location"] == URL
    page = client.get(URL).content.decode()
    (raw,) = SHOWN.findall(page)
    key = ApiKey.objects.get()
    assert key.digest == hashlib.sha256(raw.encode()).hexdigest() and key.prefix == raw[:8]
    assert (key.name, key.contact, key.place.code, key.created_by) == (
        "市民随手拍",
        "李工",
        "310101020",
        personas["supervisor"],
    )
    assert raw not in str(
        ChangeLog.objects.filter(action=ChangeAction.TOKEN_ISSUED, object_id=str(key.pk)).get().after
    )
    again = client.get(URL).content.decode()
    assert raw not in again and not SHOWN.findall(again)
    assert "市民随手拍" in again and key.prefix in again


def test_a_resubmitted_create_issues_nothing_new(client_as):
    client = client_as("dispatcher")
    create(client)
    client.get(URL)  # the key was shown
    response = create(client)  # the same form posted again
    assert response.status_code == 302 and ApiKey.objects.count() == 1
    assert not SHOWN.findall(client.get(URL).content.decode())
    create(client, idem="key-create-000002")
    assert ApiKey.objects.count() == 2


@pytest.mark.parametrize(
    ("place", "name"),
    [
        ("310101021", "别的街道"),  # another street
        ("310101020001", "居委会"),  # a committee: keys are for streets and districts
        ("310101", "全区"),  # the district, above a street operator
        ("310101020", ""),  # no name
    ],
)
def test_refused_creates_say_why_and_write_nothing(client_as, place, name):
    response = create(client_as("supervisor"), place=place, name=name)
    assert response.status_code == 400
    text = response.content.decode()
    assert ("受理区域：" if name else "客户端名称：") in text  # the error names its field
    assert not ApiKey.objects.exists()


def test_a_district_leader_chooses_among_the_district_and_its_streets(client_as):
    client = client_as("district_leader")
    page = client.get(URL).content.decode()
    assert 'value="310101"' in page and 'value="310101020"' in page and 'value="310101021"' in page
    assert 'value="310101020001"' not in page
    assert create(client, place="310101").status_code == 302
    assert ApiKey.objects.get().place.code == "310101"


def test_keys_are_listed_and_revoked_only_inside_the_area(client_as, personas):
    ours, _ = issue_key(
        by=personas["admin"], name="本街道App", contact="", place=Place.objects.get(code="310101020")
    )
    theirs, _ = issue_key(
        by=personas["admin"], name="打浦桥App", contact="", place=Place.objects.get(code="310101021")
    )
    client = client_as("supervisor")
    page = client.get(URL).content.decode()
    assert "本街道App" in page and "打浦桥App" not in page

    response = client.post(URL, {"action": "revoke", "key": theirs.pk})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active

    response = client.post(URL, {"action": "revoke", "key": ours.pk}, follow=True)
    ours.refresh_from_db()
    assert not ours.is_active and "已撤销" in response.content.decode()
    assert ChangeLog.objects.filter(action=ChangeAction.REVOKE, object_id=str(ours.pk)).count() == 1
    # a revoked key has no revoke button any more
    assert f'name="key" value="{ours.pk}"' not in client.get(URL).content.decode()
