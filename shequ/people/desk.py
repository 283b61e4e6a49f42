"""The acceptance desk's use of the resident database (issue 4, "Wiring").

At the desk the clerk types or scans the applicant's document number; `lookup` answers with
what pre-fills the form (name, address), the masked phone, the person's status and tags, and
whether the applicant may use proxy or home-visit service (政务代理 / 上门服务), with the reasons.
A proxy's document number is checked against the applicant's households.

Only people inside the clerk's places are found; anyone else gets the same "not found" answer
as someone not on record, so the desk learns nothing about other streets. Every answer that
shows a person is written to the access log. The stored phone never reaches the browser: the
desk view re-reads it at acceptance (`stored_phone`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shequ.accounts.scoping import ADD, VIEW, may_act, restrict
from shequ.affairs.models import Case
from shequ.affairs.services import PROXY_AGE
from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core.http import AuthedRequest
from shequ.core.idnumbers import clean_document
from shequ.core.masking import mask_id_number, mask_name, mask_phone

from . import services
from .choices import ComputedTag, DocumentType, HouseholdKind, PersonStatus, Relation, Tag
from .models import Membership, Person, PersonTag

# Computed tags that make an applicant eligible, in the order the desk lists them.
ELIGIBLE_COMPUTED = (ComputedTag.LIVES_ALONE, ComputedTag.ELDERS_ONLY)
# Maintained tags that do; disability is listed with its level.
ELIGIBLE_TAGS = (
    Tag.DISABILITY,
    Tag.MINIMUM_INCOME,
    Tag.THREE_NOS,
    Tag.FIVE_GUARANTEES,
    Tag.KEY_ASSISTANCE,
    Tag.SPECIAL_CARE,
)
INACTIVE = (PersonStatus.DECEASED, PersonStatus.CANCELLED)

# The proxy's relation to the applicant, from each one's relation to the head of the household.
# Applicant is the head: the proxy's own relation. Proxy is the head: the inverse of the
# applicant's. Neither: only the pairs that are unambiguous.
_INVERSE = {
    Relation.SPOUSE: Relation.SPOUSE,
    Relation.CHILD: Relation.PARENT,
    Relation.PARENT: Relation.CHILD,
    Relation.GRANDCHILD: Relation.GRANDPARENT,
    Relation.GRANDPARENT: Relation.GRANDCHILD,
    Relation.SIBLING: Relation.SIBLING,
    Relation.OTHER_RELATIVE: Relation.OTHER_RELATIVE,
    Relation.NON_RELATIVE: Relation.NON_RELATIVE,
}
_PAIRS = {
    (Relation.SPOUSE, Relation.CHILD): Relation.CHILD,
    (Relation.CHILD, Relation.SPOUSE): Relation.PARENT,
    (Relation.CHILD, Relation.CHILD): Relation.SIBLING,
    (Relation.PARENT, Relation.CHILD): Relation.GRANDCHILD,
    (Relation.CHILD, Relation.PARENT): Relation.GRANDPARENT,
    (Relation.PARENT, Relation.SPOUSE): Relation.CHILD_IN_LAW,
    (Relation.SPOUSE, Relation.CHILD_IN_LAW): Relation.CHILD_IN_LAW,
}


# ------------------------------------------------------------------------------ finding


def may_use_desk(user: Any) -> bool:
    """The desk's own permission: who may accept a case may look applicants up."""
    return bool(may_act(user, Case, ADD))


def find_applicant(user: Any, id_type: str, id_number: str) -> Person | None:
    """The person with this document inside the user's places (VIEW), else None: a number that
    is malformed, not on record or on record elsewhere all give None."""
    if id_type not in DocumentType.values:
        return None
    try:
        number = clean_document(id_type, id_number)
    except ValidationError:
        return None
    return restrict(Person.objects.all(), user, VIEW).filter(id_type=id_type, id_number=number).first()


def stored_phone(person: Person | None) -> str:
    """The phone on record for a person just found (the desk re-reads it at acceptance rather
    than trusting anything the browser sends), or "" when there is none to use."""
    if person is None or person.status in INACTIVE:
        return ""
    return person.phone


# ------------------------------------------------------------------------------ eligibility


def _current_tags(person: Person, today: dt.date) -> list[PersonTag]:
    return list(
        person.tags.filter(since__lte=today)
        .filter(Q(until__isnull=True) | Q(until__gte=today))
        .order_by("tag", "since")
    )


def tag_label(row: PersonTag) -> str:
    """低保, or 残疾二级 for a disability with its level."""
    if row.tag == Tag.DISABILITY and row.level:
        return _("残疾%(level)s") % {"level": row.get_level_display()}
    return str(row.get_tag_display())


@dataclass(frozen=True)
class Eligibility:
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return bool(self.reasons)

    @property
    def text(self) -> str:
        if not self.reasons:
            return ""
        return _("可提供代办或预约上门服务：%(reasons)s") % {"reasons": "、".join(self.reasons)}


def eligibility(
    person: Person,
    *,
    today: dt.date | None = None,
    disabled: bool = False,
    current: dict[str, Membership] | None = None,
    tags: list[PersonTag] | None = None,
) -> Eligibility:
    """Why the applicant may use proxy or home-visit service, from the record: their age band
    from PROXY_AGE on, living alone, an elders-only household, and the care tags (disability
    with its level, 低保, 三无, 五保 …). `disabled`: the clerk ticked "持残疾人证" although the
    record has no disability tag. A deceased or cancelled person has no eligibility."""
    if person.status in INACTIVE:
        return Eligibility([])
    today = today or timezone.localdate()
    current = services.current_memberships(person) if current is None else current
    computed = services.computed_tags(person, today, current)
    reasons: list[str] = []
    band = next((tag for _threshold, tag in services.AGE_BANDS if tag in computed), None)
    if band is not None and person.age_on(today) >= PROXY_AGE:  # PROXY_AGE: the centre's rule
        reasons.append(str(ComputedTag(band).label))
    reasons += [str(ComputedTag(tag).label) for tag in ELIGIBLE_COMPUTED if tag in computed]
    rows = _current_tags(person, today) if tags is None else tags
    by_tag = {row.tag: row for row in rows}
    reasons += [tag_label(by_tag[tag]) for tag in ELIGIBLE_TAGS if tag in by_tag]
    if disabled and Tag.DISABILITY not in by_tag:
        reasons.append(_("持残疾人证"))
    return Eligibility(reasons)


# ------------------------------------------------------------------------------ the proxy


@dataclass(frozen=True)
class ProxyCheck:
    same_household: bool
    relation: str  # the proxy's relation to the applicant, "" when unknown or not in the household
    text: str  # what the desk shows: "同户家庭成员（配偶）" or "非同户人员代办，需提供授权委托书"


def _relation(applicant: str, proxy: str) -> str:
    """The proxy's relation to the applicant as a label, from both relations to the head."""
    if applicant == Relation.HEAD:
        return str(Relation(proxy).label)
    if proxy == Relation.HEAD:
        if applicant == Relation.CHILD_IN_LAW:
            return _("公婆/岳父母")
        inverse = _INVERSE.get(Relation(applicant))
        return str(inverse.label) if inverse else ""
    pair = _PAIRS.get((Relation(applicant), Relation(proxy)))
    if pair is not None:
        return str(pair.label)
    return _("户主的%(relation)s") % {"relation": Relation(proxy).label}


def check_proxy(
    person: Person, proxy_id_number: str, current: dict[str, Membership] | None = None
) -> ProxyCheck | None:
    """Whether the proxy (代办人, by resident ID number) is a current member of the applicant's
    actual or registered household, and how they are related; None when no valid number was
    given. Nothing about the proxy beyond that relation is shown."""
    try:
        number = clean_document(DocumentType.RESIDENT_ID, proxy_id_number, "proxy_id_number")
    except ValidationError:
        return None
    if person.id_type == DocumentType.RESIDENT_ID and number == person.id_number:
        return ProxyCheck(False, "", _("代办人与申请人是同一人，无需代办"))
    current = services.current_memberships(person) if current is None else current
    own = sorted(current.values(), key=lambda m: m.kind != HouseholdKind.ACTUAL)  # actual first
    proxies = {
        m.household_id: m
        for m in Membership.objects.filter(
            household_id__in=[m.household_id for m in own],
            left_on__isnull=True,
            person__id_type=DocumentType.RESIDENT_ID,
            person__id_number=number,
        )
    }
    for membership in own:
        match = proxies.get(membership.household_id)
        if match is None:
            continue
        relation = _relation(membership.relation, match.relation)
        if match.relation == Relation.NON_RELATIVE or (
            membership.relation == Relation.NON_RELATIVE and match.relation == Relation.HEAD
        ):
            return ProxyCheck(True, relation, _("同户非亲属人员代办，需提供授权委托书"))
        return ProxyCheck(True, relation, _("同户家庭成员（%(relation)s）") % {"relation": relation})
    return ProxyCheck(False, "", _("非同户人员代办，需提供授权委托书"))


# ------------------------------------------------------------------------------ the look-up


def _status_note(person: Person) -> str:
    day = person.status_on.isoformat() if person.status_on else ""
    notes = {
        PersonStatus.DECEASED: _("人口库登记该人员已死亡%(day)s，请核实申请人身份。"),
        PersonStatus.CANCELLED: _("人口库中该人员的登记已注销%(day)s，请核实申请人身份。"),
        PersonStatus.MOVED_OUT: _("人口库登记该人员已迁出%(day)s，请核实现住址。"),
    }
    note = notes.get(PersonStatus(person.status))
    return note % {"day": f"（{day}）" if day else ""} if note else ""


def summary(
    person: Person, *, today: dt.date | None = None, proxy_id_number: str = "", disabled: bool = False
) -> dict[str, Any]:
    """What the desk receives about a person found: no document number and no phone in clear."""
    today = today or timezone.localdate()
    current = services.current_memberships(person)
    actual = current.get(HouseholdKind.ACTUAL)
    rows = _current_tags(person, today)
    inactive = person.status in INACTIVE
    age_day = person.status_on if person.status == PersonStatus.DECEASED and person.status_on else today
    has_phone = bool(person.phone) and not inactive
    found = eligibility(person, today=today, disabled=disabled, current=current, tags=rows)
    proxy = check_proxy(person, proxy_id_number, current) if proxy_id_number.strip() else None
    return {
        "found": True,
        "person": {
            "name": person.name,
            "gender": str(person.get_gender_display()),
            "age": person.age_on(age_day),
            "age_text": _("%(age)d 岁") % {"age": person.age_on(age_day)},
            "address": actual.household.house.address if actual and not inactive else "",
            "place_code": person.place_code,
            "phone_masked": mask_phone(person.phone) if has_phone else "",
            "has_phone": has_phone,
            "phone_offer": (
                _("使用登记电话（尾号 %(tail)s）") % {"tail": person.phone[-4:]} if has_phone else ""
            ),
            "status": person.status,
            "status_label": str(person.get_status_display()),
            "status_note": _status_note(person),
            "inactive": inactive,
            "tags": [tag_label(row) for row in rows],
            "computed_tags": [
                str(ComputedTag(tag).label) for tag in services.computed_tags(person, today, current)
            ],
            "disabled": any(row.tag == Tag.DISABILITY for row in rows),
        },
        "eligibility": {"eligible": found.eligible, "reasons": found.reasons, "text": found.text},
        "proxy": (
            {"same_household": proxy.same_household, "relation": proxy.relation, "text": proxy.text}
            if proxy
            else None
        ),
    }


def not_found() -> dict[str, Any]:
    return {"found": False, "message": _("未在本辖区人口库中找到")}


@login_required
@require_POST
@never_cache
def lookup(request: AuthedRequest) -> HttpResponse:
    """窗口受理查询: the applicant by document number, for the desk's pre-fill (JSON). Out of the
    clerk's places answers exactly as not on record; a person shown is logged."""
    if not may_use_desk(request.user):
        raise PermissionDenied
    id_type = request.POST.get("id_type") or DocumentType.RESIDENT_ID
    id_number = request.POST.get("id_number", "")
    try:
        clean_document(id_type, id_number)
    except ValidationError as exc:
        return JsonResponse(
            {"found": False, "message": " ".join(exc.messages)},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    person = find_applicant(request.user, id_type, id_number)
    if person is None:
        return JsonResponse(not_found(), json_dumps_params={"ensure_ascii": False})
    record_access(
        actor=request.user,
        action=AccessAction.VIEW,
        subject_type="people.person",
        subject_id=str(person.pk),
        subject_repr=f"{mask_name(person.name)} {mask_id_number(person.id_number)}",
        fields=["name", "gender", "birth_date", "address", "status", "tags"],
        purpose=_("窗口受理查询"),
        place_code=person.place_code,
    )
    answer = summary(
        person,
        proxy_id_number=request.POST.get("proxy_id_number", ""),
        disabled=request.POST.get("disabled") in ("on", "true", "1"),
    )
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
