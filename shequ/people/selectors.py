"""Reading the resident database: one search box that understands what was typed, and the
household views the pages and other modules need.

What the box accepts, tried in this order:
* an 18-character resident ID number (or another document number): exact match;
* a phone number: exact match;
* Latin letters: pinyin initials ("wxy") or full pinyin ("wangxiuying", "wangxiu"), as a prefix;
* Chinese: the whole name or part of it; with an address word (路 弄 号 室 小区 …) the address.
Every branch is an indexed equality or prefix search; part of a name uses, on PostgreSQL, the GIN
index over each name's two-character pieces (migration 0003), the address search is a scan.
"""

from __future__ import annotations

import re

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import F, Func, Q, QuerySet, TextField

from shequ.core.idnumbers import MOBILE

from .choices import DocumentType, HouseholdKind
from .models import Household, Membership, Person

DOCUMENT = re.compile(r"^[0-9]{17}[0-9Xx]$|^[A-Za-z]{1,2}[0-9]{7,9}$")
PHONE = re.compile(r"^[0-9-]{7,13}$")
LATIN = re.compile(r"^[A-Za-z]+$")
ADDRESS_WORDS = ("路", "弄", "号", "室", "小区", "街", "村", "苑", "园", "坊", "里", "大厦")


def search(queryset: QuerySet[Person], query: str, limit: int = 50) -> list[Person]:
    """People matching `query` inside `queryset` (already scoped), best matches first."""
    found = search_queryset(queryset, query, limit)
    return [] if found is None else list(found)


def search_queryset(queryset: QuerySet[Person], query: str, limit: int = 50) -> QuerySet[Person] | None:
    """The query `search` runs (None for an empty box); the benchmark explains it."""
    text = re.sub(r"\s+", "", query or "")
    if not text:
        return None
    if DOCUMENT.match(text):
        # Naming the document types lets the unique (id_type, id_number) index serve the lookup.
        condition = Q(id_type__in=DocumentType.values, id_number=text.upper())
    elif MOBILE.match(text) or PHONE.match(text):
        condition = Q(phone=text)
    elif LATIN.match(text):
        latin = text.lower()
        condition = Q(name_initials__startswith=latin) | Q(name_pinyin__startswith=latin)
    elif any(word in text for word in ADDRESS_WORDS):
        people = Membership.objects.filter(
            kind=HouseholdKind.ACTUAL, left_on__isnull=True, household__house__address__contains=text
        ).values("person_id")
        condition = Q(pk__in=people)
    elif len(text) == 1:
        condition = Q(name__startswith=text)  # a surname
    else:
        condition = Q(name__contains=text)
        if connections[queryset.db].vendor == "postgresql":
            queryset = queryset.alias(name_bigrams=NameBigrams(F("name"))).filter(
                name_bigrams__contains=bigrams(text)
            )
    return queryset.filter(condition).order_by("name", "id")[:limit]


class NameBigrams(Func):
    """people_name_bigrams(name): the expression the GIN index of migration 0003 is built on."""

    function = "people_name_bigrams"
    output_field = ArrayField(TextField())


def bigrams(text: str) -> list[str]:
    """ "王秀英" → ["王秀", "秀英"]: every piece a name containing `text` must contain."""
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def household_of(person: Person, kind: str) -> Household | None:
    """The person's current household of `kind` (registered or actual), with its house."""
    membership = (
        Membership.objects.filter(person=person, kind=kind, left_on__isnull=True)
        .select_related("household__house")
        .first()
    )
    return membership.household if membership else None


def members(household: Household) -> list[Membership]:
    """The current members, head first, with their persons."""
    rows = Membership.objects.filter(household=household, left_on__isnull=True).select_related("person")
    return sorted(rows, key=lambda m: (m.relation != "head", m.joined_on, m.person.birth_date))
