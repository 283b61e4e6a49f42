"""Staff pages of the resident database (人、户、房): one search box, the person page (with its
reveal and its "as it was on date D" view), the household page and the house page.

Everything is read through `restrict(..., VIEW)`; detail pages answer 404 both for "not in your
places" and "does not exist". ID and phone numbers are masked unless revealed: a reveal needs
the REVEAL permission and a reason, writes an access-log row, and renders the numbers into that
one response only (nothing is kept in the session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shequ.accounts.scoping import (
    CHANGE,
    EXPORT,
    REVEAL,
    VIEW,
    get_scoped_or_404,
    jurisdiction,
    may_act,
    restrict,
    scope_rule,
)
from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core.http import AuthedRequest
from shequ.core.masking import mask_id_number, mask_name, mask_phone
from shequ.places.models import Place

from . import selectors, services
from .choices import ChangeStatus, ComputedTag, HouseholdKind, Tag
from .forms import AGE_CHOICES, AsOfForm, RevealForm, SearchForm
from .models import House, Household, Membership, Person, PersonTag

RESULT_LIMIT = 50
PERMIT_WARN_DAYS = 30


# ------------------------------------------------------------------------------ helpers


def _in_scope(user: Any, action: str) -> Callable[[str], bool]:
    """Whether a row with this place code is inside the user's jurisdiction for `action` on
    resident data, decided from the (already loaded) role assignments: used to link only to the
    pages the user may open, without a query per link."""
    if user.is_superuser:
        return lambda code: True
    prefixes = jurisdiction(user, scope_rule(Person).roles.get(action, ()))
    return lambda code: bool(code) and any(code.startswith(prefix) for prefix in prefixes)


def _place_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return dict(Place.objects.filter(code__in=wanted).values_list("code", "name"))


def _years_ago(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_band(age: int) -> str:
    for threshold, tag in services.AGE_BANDS:
        if age >= threshold:
            return str(ComputedTag(tag).label)
    return ""


def _current_tags(today: dt.date) -> QuerySet[PersonTag]:
    return PersonTag.objects.filter(Q(until__isnull=True) | Q(until__gte=today))


@dataclass
class SearchRow:
    person: Person
    age: int
    masked_id: str
    masked_phone: str
    committee: str
    address: str
    house_id: int | None
    tags: list[str]


def _search_rows(people: list[Person], today: dt.date) -> list[SearchRow]:
    """The table rows: the actual household's house and the current tags in two queries for the
    whole page, the committee names in a third."""
    prefetch_related_objects(
        people,
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(
                kind=HouseholdKind.ACTUAL, left_on__isnull=True
            ).select_related("household__house"),
            to_attr="actual_now",
        ),
        Prefetch("tags", queryset=_current_tags(today).order_by("tag"), to_attr="tags_now"),
    )
    names = _place_names(p.place_code for p in people)
    rows = []
    for person in people:
        actual = person.actual_now[0] if person.actual_now else None  # type: ignore[attr-defined]
        age = person.age_on(today)
        tags = [t.get_tag_display() for t in person.tags_now]  # type: ignore[attr-defined]
        band = _age_band(age)
        rows.append(
            SearchRow(
                person=person,
                age=age,
                masked_id=mask_id_number(person.id_number),
                masked_phone=mask_phone(person.phone),
                committee=names.get(person.place_code, ""),
                address=actual.household.house.address if actual else "",
                house_id=actual.household.house_id if actual else None,
                tags=[band, *tags] if band else tags,
            )
        )
    return rows


# ------------------------------------------------------------------------------ search


@login_required
@require_GET
def search(request: AuthedRequest) -> HttpResponse:
    """人口信息查询: one box for ID number, phone, name (Chinese, pinyin or initials) or address,
    with optional chips for a maintained tag or an age band."""
    if not may_act(request.user, Person, VIEW):
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    if request.GET.get("q"):  # results on screen: no focus jump (and no phone keyboard popping up)
        form.fields["q"].widget.attrs.pop("autofocus", None)
    today = timezone.localdate()
    rows: list[SearchRow] = []
    capped = searched = False
    if form.is_bound and form.is_valid():
        query, tag, age = form.cleaned_data["q"], form.cleaned_data["tag"], form.cleaned_data["age"]
        people = restrict(Person.objects.all(), request.user, VIEW)
        if tag:
            people = people.filter(pk__in=_current_tags(today).filter(tag=tag).values("person_id"))
        if age:
            people = people.filter(birth_date__lte=_years_ago(today, int(age)))
        found: list[Person] = []
        if query:
            found = selectors.search(people, query, limit=RESULT_LIMIT + 1)
            searched = True
        elif tag or age:
            found = list(people.order_by("name", "id")[: RESULT_LIMIT + 1])
            searched = True
        capped = len(found) > RESULT_LIMIT
        rows = _search_rows(found[:RESULT_LIMIT], today)
    params = request.GET.copy()
    chips = {
        "tag": [(value, label, _chip_url(params, "tag", value)) for value, label in Tag.choices],
        "age": [(value, label, _chip_url(params, "age", value)) for value, label in AGE_CHOICES],
    }
    return render(
        request,
        "people/search.html",
        {
            "form": form,
            "rows": rows,
            "searched": searched,
            "capped": capped,
            "limit": RESULT_LIMIT,
            "chips": chips,
            "chosen_tag": request.GET.get("tag", ""),
            "chosen_age": request.GET.get("age", ""),
            "may_export": may_act(request.user, Person, EXPORT),
            "export_query": _export_query(request.GET),
        },
    )


def _export_query(params: Any) -> str:
    """The chips of the search, carried to the export (the box's text is not: an export is a
    list by tag and age, not a search result)."""
    chosen = {key: params[key] for key in ("tag", "age") if params.get(key)}
    return "?" + urlencode(chosen) if chosen else ""


def _chip_url(params: Any, key: str, value: str) -> str:
    """The query string that toggles one chip, keeping the rest of the search."""
    params = params.copy()
    if params.get(key) == value or not value:
        params.pop(key, None)
    else:
        params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


# ------------------------------------------------------------------------------ person


@dataclass
class MemberRow:
    membership: Membership
    age: int


def _member_rows(members: Iterable[Membership], day: dt.date) -> list[MemberRow]:
    """Head first, then by joining date and age (the order of `selectors.members`)."""
    ordered = sorted(members, key=lambda m: (m.relation != "head", m.joined_on, m.person.birth_date))
    return [MemberRow(m, m.person.age_on(day)) for m in ordered]


@dataclass
class HouseholdView:
    membership: Membership  # the person's own membership in it
    household: Household
    members: list[MemberRow]
    committee: str = ""


@dataclass
class PersonPage:
    person: Person  # the current row (links, reveal)
    shown: Person | None  # what the page shows: the current row or its version on `as_of`
    as_of: dt.date | None
    households: list[HouseholdView] = field(default_factory=list)
    history: list[Membership] = field(default_factory=list)
    tags: list[PersonTag] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    separation: str = ""


def _as_of(person: Person, day: dt.date) -> Person | None:
    """The person as the history kept them at the end of `day`, or None before they existed."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
    try:
        return person.history.as_of(moment)  # type: ignore[attr-defined,no-any-return]
    except Person.DoesNotExist:
        return None


def _valid_on(day: dt.date) -> Q:
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gt=day))


def _person_page(person: Person, as_of: dt.date | None, today: dt.date) -> PersonPage:
    """What the person page shows: now, or as it was at the end of `as_of`."""
    history = list(
        Membership.objects.filter(person=person)
        .select_related("household__house")
        .order_by("joined_on", "pk")
    )
    if as_of is None:
        page = PersonPage(person=person, shown=person, as_of=None, history=history)
        current = {m.kind: m for m in history if m.left_on is None}
        page.computed = [
            str(ComputedTag(tag).label) for tag in services.computed_tags(person, today, current)
        ]
        page.separation = services.separation(person, current)
        page.tags = list(person.tags.order_by("until", "tag"))
        _add_households(page, [m for m in history if m.left_on is None], Q(left_on__isnull=True), today)
        return page
    shown = _as_of(person, as_of)
    page = PersonPage(person=person, shown=shown, as_of=as_of, history=history)
    if shown is None:
        return page
    page.tags = list(
        person.tags.filter(since__lte=as_of)
        .filter(Q(until__isnull=True) | Q(until__gte=as_of))
        .order_by("tag")
    )
    then = [m for m in history if m.joined_on <= as_of and (m.left_on is None or m.left_on > as_of)]
    _add_households(page, then, _valid_on(as_of), as_of)
    return page


def _add_households(page: PersonPage, own: list[Membership], valid: Q, day: dt.date) -> None:
    """The person's households (registered first) with their members valid by `valid`, all
    members in one query."""
    members = Membership.objects.filter(valid, household__in=[m.household_id for m in own]).select_related(
        "person"
    )
    by_household: dict[int, list[Membership]] = {}
    for member in members:
        by_household.setdefault(member.household_id, []).append(member)
    for membership in sorted(own, key=lambda m: m.kind != HouseholdKind.REGISTERED):
        rows = _member_rows(by_household.get(membership.household_id, []), day)
        page.households.append(HouseholdView(membership, membership.household, rows))


def _render_person(
    request: AuthedRequest,
    person: Person,
    *,
    as_of_form: AsOfForm,
    reveal_form: RevealForm,
    revealed: bool = False,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    as_of = as_of_form.cleaned_data.get("as_of") if as_of_form.is_bound and as_of_form.is_valid() else None
    page = _person_page(person, as_of, today)
    shown = page.shown
    names = _place_names(
        [person.place_code, *(h.household.house.place_code for h in page.households), *(shown.place_code,)]
        if shown
        else [person.place_code]
    )
    for view in page.households:
        view.committee = names.get(view.household.house.place_code, "")
    visible = _in_scope(request.user, VIEW)
    may_reveal = _in_scope(request.user, REVEAL)(person.place_code) and may_act(request.user, Person, REVEAL)
    may_change = _in_scope(request.user, CHANGE)(person.place_code) and may_act(request.user, Person, CHANGE)
    permit = None
    if shown is not None and shown.residence_permit_expiry:
        day = as_of or today
        if shown.residence_permit_expiry < day:
            permit = "expired"
        elif (shown.residence_permit_expiry - day).days <= PERMIT_WARN_DAYS:
            permit = "expiring"
    context = {
        "person": person,
        "shown": shown,
        "page": page,
        "as_of": as_of,
        "as_of_form": as_of_form,
        "reveal_form": reveal_form,
        "may_reveal": may_reveal,
        "may_change": may_change,
        "pending_changes": list(
            person.change_requests.filter(status=ChangeStatus.PENDING).select_related("requested_by")
        )
        if as_of is None
        else [],
        "revealed": revealed,
        "id_display": (shown.id_number if revealed else mask_id_number(shown.id_number)) if shown else "",
        "phone_display": (shown.phone if revealed else mask_phone(shown.phone)) if shown else "",
        "age": shown.age_on(as_of or today) if shown else None,
        "committee": names.get(shown.place_code if shown else person.place_code, ""),
        "permit": permit,
        "visible_people": {
            row.membership.person_id
            for h in page.households
            for row in h.members
            if visible(row.membership.person.place_code)
        },
        "visible_households": {m.household_id for m in page.history if visible(m.household.place_code)},
        "visible_houses": {
            m.household.house_id for m in page.history if visible(m.household.house.place_code)
        },
    }
    response = render(request, "people/person.html", context, status=status)
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def person(request: AuthedRequest, person_id: int) -> HttpResponse:
    """A person's facts, tags, households and moves; `?as_of=YYYY-MM-DD` shows them as they were."""
    item = get_scoped_or_404(Person.objects.all(), request.user, VIEW, pk=person_id)
    as_of_form = AsOfForm(request.GET if "as_of" in request.GET else None)
    return _render_person(request, item, as_of_form=as_of_form, reveal_form=RevealForm())


@login_required
@require_POST
@never_cache
def reveal(request: AuthedRequest, person_id: int) -> HttpResponse:
    """Show the full ID and phone numbers after a stated reason; logged in the access log. The
    page is rendered in this response (not redirected), so the numbers are stored nowhere."""
    if not may_act(request.user, Person, REVEAL):
        raise PermissionDenied
    item = get_scoped_or_404(Person.objects.all(), request.user, REVEAL, pk=person_id)
    form = RevealForm(request.POST)
    as_of_data = {"as_of": request.POST.get("as_of", "")} if request.POST.get("as_of") else None
    as_of_form = AsOfForm(as_of_data)
    if not form.is_valid():
        return _render_person(request, item, as_of_form=as_of_form, reveal_form=form, status=400)
    record_access(
        actor=request.user,
        action=AccessAction.REVEAL,
        subject_type="people.person",
        subject_id=str(item.pk),
        subject_repr=f"{mask_name(item.name)} {mask_id_number(item.id_number)}",
        fields=["id_number", "phone"],
        purpose=form.cleaned_data["reason"],
        place_code=item.place_code,
    )
    return _render_person(request, item, as_of_form=as_of_form, reveal_form=RevealForm(), revealed=True)


# ------------------------------------------------------------------------------ household, house


@login_required
@require_GET
def household(request: AuthedRequest, household_id: int) -> HttpResponse:
    """An household: its house, current members and former members with their dates."""
    item = get_scoped_or_404(Household.objects.select_related("house"), request.user, VIEW, pk=household_id)
    rows = list(item.memberships.select_related("person").order_by("joined_on", "pk"))
    today = timezone.localdate()
    current = _member_rows((m for m in rows if m.left_on is None), today)
    former = sorted(
        (m for m in rows if m.left_on is not None), key=lambda m: m.left_on or m.joined_on, reverse=True
    )
    names = _place_names([item.house.place_code, item.house.grid_code])
    visible = _in_scope(request.user, VIEW)
    return render(
        request,
        "people/household.html",
        {
            "household": item,
            "house": item.house,
            "current": current,
            "former": former,
            "committee": names.get(item.house.place_code, ""),
            "grid": names.get(item.house.grid_code, ""),
            "today": today,
            "visible_people": {m.person_id for m in rows if visible(m.person.place_code)},
        },
    )


@login_required
@require_GET
def house(request: AuthedRequest, house_id: int) -> HttpResponse:
    """A house: its address, kind, grid and committee, the households there with their members,
    and its rental registrations."""
    item = get_scoped_or_404(House.objects.all(), request.user, VIEW, pk=house_id)
    households = list(
        item.households.order_by("kind", "pk").prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(left_on__isnull=True).select_related("person"),
                to_attr="current",
            )
        )
    )
    today = timezone.localdate()
    for each in households:
        each.rows = _member_rows(each.current, today)  # type: ignore[attr-defined]
    rentals = list(item.rentals.select_related("landlord").prefetch_related("tenants").order_by("-starts_on"))
    names = _place_names([item.place_code, item.grid_code])
    visible = _in_scope(request.user, VIEW)
    people = [m.person for each in households for m in each.current]  # type: ignore[attr-defined]
    people += [r.landlord for r in rentals] + [t for r in rentals for t in r.tenants.all()]
    return render(
        request,
        "people/house.html",
        {
            "house": item,
            "households": households,
            "rentals": rentals,
            "committee": names.get(item.place_code, ""),
            "grid": names.get(item.grid_code, ""),
            "today": today,
            "visible_people": {p.pk for p in people if visible(p.place_code)},
        },
    )
