"""Every URL pattern, visited as every persona, shows nothing outside the persona's scope.

The test walks the URLconf, so a new page is covered the day it is added. A pattern with a
parameter needs sample values in SAMPLES (one inside 五里桥街道, one inside 打浦桥街道); the test
fails and says so when a new parameter name appears.

What "outside the scope" means here, for a persona:
* names of streets, committees and grids that are neither in the persona's subtree nor one of its
  ancestors (district names are public geography: addresses name them);
* names of staff whose roles all lie in such places (for example, the other street's clerk);
* any unmasked phone number of any user.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from shequ.accounts.models import RoleAssignment, User
from shequ.accounts.scoping import VIEW, jurisdiction, restrict
from shequ.people.models import ChangeRequest, House, Household, Person
from shequ.places.models import Place
from shequ.queueing.models import Appointment, Ticket, Window
from shequ.workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

PERSONAS = [
    None,  # anonymous
    "admin",
    "district_leader",
    "leader",
    "manager",
    "frontdesk",
    "backoffice",
    "committee",
    "inspector",
    "supervisor",
    "dispatcher",
    "provider",
    "mediator",
    "resident",
    "frontdesk_b",
]

# Parameter name → sample values: the first inside 五里桥街道, the second inside 打浦桥街道.
SAMPLES: dict[str, list[str]] = {
    "code": ["310101020001", "310101021001"],
    "token_id": ["1", "2"],
    "user_id": ["{user:frontdesk}", "{user:frontdesk_b}"],
    "fmt": ["csv", "geojson"],
    "format": ["csv", "geojson"],
    "number": ["{order:310101020}", "{order:310101021}"],
    "centre_code": ["310101020", "310101021"],
    "token": ["{ticket:310101020}", "{ticket:310101021}"],
    "appointment_code": ["{appointment:310101020}", "{appointment:310101021}"],
    "window_number": ["1", "1"],
    "pk": ["{window:310101020}", "{window:310101021}"],
    "action": ["call", "call"],
    "person_id": ["{person:310101020}", "{person:310101021}"],
    "household_id": ["{household:310101020}", "{household:310101021}"],
    "house_id": ["{house:310101020}", "{house:310101021}"],
    "change_id": ["{change:310101020}", "{change:310101021}"],
    "street_code": ["310101020", "310101021"],
    "kind": ["item", "component"],
    "request_id": ["{order:310101020}", "{order:310101021}"],
}

# Parameters that name one object; the second sample of each lies outside 五里桥街道.
OBJECT_PARAMS = {
    "code",
    "token_id",
    "user_id",
    "number",
    "pk",
    "person_id",
    "household_id",
    "house_id",
    "change_id",
}

SKIP_PREFIXES = ("admin/", "i18n/", "static/", "media/")

# Public pages of a service hall (kiosk, ticket, display, booking…) name the hall itself: the
# street office's name is on the sign above its door. Every other marker still applies there.
PUBLIC_HALL_ROUTES = (
    "queue/kiosk/",
    "queue/ticket/",
    "queue/t/",
    "queue/book/",
    "queue/appointment/",
    "queue/display/",
    "queue/tablet/",
    "queue/rate/",
)
# A street's public page for residents' grid reports names the street it serves (in its URL).
PUBLIC_STREET_ROUTES = ("grid/public/",)

# `<int:code>` in path() routes, `(?P<code>…)` in re_path() ones.
_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    routes: list[str] = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if not isinstance(entry.pattern, RoutePattern):
            route = route.lstrip("^").rstrip("$").replace("\\.", ".")
        if isinstance(entry, URLResolver):
            routes += _routes(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            routes.append(prefix + route)
    return [r for r in routes if not r.startswith(SKIP_PREFIXES)]


def _replacer(name: str, value: str) -> Callable[[re.Match[str]], str]:
    return lambda m: value if name in (m.group("name"), m.group("rname")) else m.group(0)


def _expand(route: str, personas: dict[str, User]) -> list[str]:
    names = [m.group("name") or m.group("rname") for m in _PARAM.finditer(route)]
    missing = [n for n in names if n not in SAMPLES]
    assert not missing, f"add sample values for URL parameter(s) {missing} of {route!r} to SAMPLES"
    urls = []
    for i in range(2):
        url = route
        for name in names:
            value = SAMPLES[name][i]
            if value.startswith("{user:"):
                value = str(personas[value[6:-1]].pk)
            elif value.startswith("{order:"):
                order = WorkOrder.objects.filter(place_code__within=value[7:-1]).order_by("id").first()
                value = order.number if order else "XX00000000-0000"
            elif value.startswith(("{ticket:", "{appointment:", "{window:")):
                value = _queue_sample(value)
            elif value.startswith(("{person:", "{household:", "{house:", "{change:")):
                value = _people_sample(value)
            url = _PARAM.sub(_replacer(name, value), url, count=1)
        urls.append("/" + url)
    return sorted(set(urls))


def _queue_sample(value: str) -> str:
    """A ticket token, an appointment code or a window id of the centre named in the sample."""
    kind, centre = value[1:-1].split(":")
    if kind == "ticket":
        ticket = Ticket.objects.filter(centre_code=centre).order_by("id").first()
        return ticket.token if ticket else "no-such-ticket"
    if kind == "appointment":
        appointment = Appointment.objects.filter(category__centre__code=centre).order_by("id").first()
        return appointment.code if appointment else "NOSUCHAP"
    window = Window.objects.filter(centre__code=centre).order_by("number").first()
    return str(window.pk) if window else "999999"


def _people_sample(value: str) -> str:
    """A person, household, house or change-request id inside the street named in the sample."""
    kind, street = value[1:-1].split(":")
    models: dict[str, type[Person] | type[Household] | type[House] | type[ChangeRequest]] = {
        "person": Person,
        "household": Household,
        "house": House,
        "change": ChangeRequest,
    }
    row = models[kind]._default_manager.filter(place_code__startswith=street).order_by("id").first()
    return str(row.pk) if row else "999999"


def _forbidden_markers(user: User | None) -> list[str]:
    """Strings that must not appear on any page this user can open."""
    phones = list(User.objects.exclude(phone="").values_list("phone", flat=True))
    if user is not None and user.is_superuser:
        return phones
    visible = set(restrict(Place.objects.all(), user, VIEW).values_list("code", flat=True)) if user else set()
    prefixes = jurisdiction(user) if user else []
    ancestors = {
        code
        for code in Place.objects.values_list("code", flat=True)
        if any(p.startswith(code) for p in prefixes)
    }
    # Districts are public geography: a resident's registered address names one (上海市松江区…).
    # What must not show is the streets, committees and grids outside the persona's places.
    hidden_places = Place.objects.exclude(code__in=visible | ancestors).exclude(kind__in=["city", "district"])
    markers = [name for name in hidden_places.values_list("name", flat=True) if len(name) >= 3]

    def related(code: str) -> bool:
        return any(code.startswith(p) or p.startswith(code) for p in prefixes)

    by_user: dict[int, list[str]] = {}
    for user_id, code in RoleAssignment.objects.active().values_list("user_id", "place__code"):
        by_user.setdefault(user_id, []).append(code)
    for other in User.objects.filter(pk__in=by_user):
        if other != user and not any(related(code) for code in by_user[other.pk]):
            markers.append(other.display_name)
    return markers + phones


@pytest.fixture(scope="module")
def crawl_demo(django_db_setup, django_db_blocker):
    """The full demo, loaded once for the module inside a transaction rolled back at its end
    (each test's own transaction nests inside it as a savepoint)."""
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield
        transaction.set_rollback(True)


@pytest.fixture
def personas(crawl_demo, db):
    return {u.username: u for u in User.objects.all()}


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p or "anonymous")
def test_every_url_shows_only_what_the_persona_may_see(client, personas, persona):
    user = personas[persona] if persona else None
    if user is not None:
        client.force_login(user)
    markers = _forbidden_markers(user)
    assert persona in (None, "admin") or markers, "the demo must give every persona something out of scope"
    assert all(WorkOrder.objects.filter(place_code__within=p).exists() for p in ("310101020", "310101021"))
    halls = set(Place.objects.filter(windows__isnull=False).values_list("name", flat=True))
    checked = 0
    for route in _routes():
        route_markers = (
            [m for m in markers if m not in halls] if route.startswith(PUBLIC_HALL_ROUTES) else markers
        )
        for url in _expand(route, personas):
            if route.startswith(PUBLIC_STREET_ROUTES):
                named = set(Place.objects.filter(code__in=url.split("/")).values_list("name", flat=True))
                route_markers = [m for m in markers if m not in named]
            response = client.get(url)
            assert response.status_code in {200, 301, 302, 400, 401, 403, 404, 405, 422}, (
                url,
                response.status_code,
            )
            if response.status_code != 200 or response.get("Content-Type", "").startswith(("image/",)):
                continue
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode("utf-8", errors="replace")
            leaked = [m for m in route_markers if m in body]
            assert not leaked, f"{persona or 'anonymous'} sees {leaked} on {url}"
            checked += 1
    assert checked, "no page answered 200: the crawl checked nothing"


def test_out_of_scope_detail_pages_are_404(client, personas):
    """A 五里桥 clerk asking for an 打浦桥 object gets the same answer as for a missing one."""
    client.force_login(personas["frontdesk"])
    for route in _routes():
        names = {m.group("name") or m.group("rname") for m in _PARAM.finditer(route)}
        if not names & OBJECT_PARAMS:
            continue
        _inside, *outside = _expand(route, personas)
        for url in outside:
            status = client.get(url).status_code
            assert status in {403, 404, 405}, (url, status)
