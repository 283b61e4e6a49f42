"""Writing the resident database: register a person (the ID number checked and cross-checked
against the gender and birth date entered), houses and households, moves in and out kept as
history, deaths, maintained tags; and what is derived (age bands, living alone, elders-only
households, person-household separation).

Every write goes through here: validation raises ValidationError keyed by field, nothing is
half-written (one transaction per call), and each change lands in the change log and in the
rows' own history (django-simple-history).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot
from shequ.core.idnumbers import clean_document, clean_phone
from shequ.core.masking import mask_name
from shequ.places.models import Place

from .choices import (
    ComputedTag,
    DocumentType,
    HouseholdKind,
    HouseKind,
    PersonStatus,
    Relation,
    ResidenceType,
    Tag,
)
from .models import House, Household, Membership, Person, PersonTag

ELDER_AGE = 60
AGE_BANDS = (
    (90, ComputedTag.AGE_90),
    (80, ComputedTag.AGE_80),
    (70, ComputedTag.AGE_70),
    (60, ComputedTag.AGE_60),
)


# Surnames read differently from the same character elsewhere (曾国藩 is zeng, not ceng).
SURNAME_READINGS = {
    "万俟": ["mo", "qi"],
    "尉迟": ["yu", "chi"],
    "长孙": ["zhang", "sun"],
    "曾": ["zeng"],
    "单": ["shan"],
    "解": ["xie"],
    "仇": ["qiu"],
    "查": ["zha"],
    "区": ["ou"],
    "朴": ["piao"],
    "翟": ["zhai"],
    "乐": ["yue"],
    "覃": ["qin"],
    "缪": ["miao"],
    "召": ["shao"],
    "盖": ["ge"],
    "员": ["yun"],
    "种": ["chong"],
    "繁": ["po"],
    "折": ["she"],
    "黑": ["he"],
    "秘": ["bi"],
    "谌": ["chen"],
}


@functools.lru_cache(maxsize=16384)
def _char_reading(char: str) -> str:
    return lazy_pinyin(char, errors="default")[0]


def _syllables(text: str) -> list[str]:
    """`lazy_pinyin(text)`, faster for names: pypinyin reads a character differently only
    inside a phrase of its tables, so when no piece of the name is such a phrase each character
    is read alone, from a cache (an import converts thousands of names a second)."""
    if not all("\u4e00" <= char <= "\u9fff" for char in text) or any(
        text[i:j] in PHRASES_DICT for i in range(len(text)) for j in range(i + 2, len(text) + 1)
    ):
        return lazy_pinyin(text, errors="default")
    return [_char_reading(char) for char in text]


def pinyin_keys(name: str) -> tuple[str, str]:
    """("wangxiuying", "wxy") for 王秀英: the full pinyin and the initials, lower case, no
    spaces or tones, the surname read as a surname; letters and digits are kept as they are."""
    name = name.strip()
    syllables: list[str] = []
    for length in (2, 1):  # compound surnames (万俟) first
        if name[:length] in SURNAME_READINGS:
            syllables, name = list(SURNAME_READINGS[name[:length]]), name[length:]
            break
    syllables += _syllables(name)
    full = "".join(syllables).lower()
    initials = "".join(syllable[:1] for syllable in syllables if syllable.strip()).lower()
    return _alnum(full), _alnum(initials)


def _alnum(text: str) -> str:
    return text if text.isalnum() else "".join(ch for ch in text if ch.isalnum())


def derive_from_id(id_number: str) -> tuple[dt.date, str]:
    """(birth date, "M"/"F") from a valid resident ID number (GB 11643: the 17th digit is odd
    for men)."""
    birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return birth, "M" if int(id_number[16]) % 2 else "F"


DOCUMENT_TYPES = frozenset(DocumentType.values)
RESIDENCE_TYPES = frozenset(ResidenceType.values)


@dataclass
class PersonData:
    name: str
    id_number: str
    id_type: str = DocumentType.RESIDENT_ID
    gender: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    residence_type: str = ResidenceType.REGISTERED
    residence_permit_number: str = ""
    residence_permit_expiry: dt.date | None = None
    registered_address: str = ""


def clean_person(data: PersonData) -> dict[str, Any]:
    """The person's fields, checked; every problem at once, keyed by field."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = dict(vars(data))  # (asdict deep-copies: a fifth of an import's time)
    fields["name"] = (data.name or "").strip()
    if not fields["name"]:
        errors["name"] = [_("请填写姓名。")]
    elif len(fields["name"]) > 50:
        errors["name"] = [_("姓名过长（最多 50 个字）。")]
    if data.id_type not in DOCUMENT_TYPES:
        errors["id_type"] = [_("证件类型无效。")]
    else:
        try:
            fields["id_number"] = clean_document(data.id_type, data.id_number)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if data.id_type == DocumentType.RESIDENT_ID and "id_number" not in errors:
        birth, gender = derive_from_id(fields["id_number"])
        if data.birth_date and data.birth_date != birth:
            errors["birth_date"] = [
                _("出生日期 %(entered)s 与身份证号码中的 %(derived)s 不一致。")
                % {"entered": data.birth_date, "derived": birth}
            ]
        if data.gender and data.gender != gender:
            errors["gender"] = [
                _("性别与身份证号码不一致（号码第 17 位表示%(gender)s）。")
                % {"gender": _("男") if gender == "M" else _("女")}
            ]
        fields["birth_date"], fields["gender"] = birth, gender
    else:
        if not data.birth_date:
            errors["birth_date"] = [_("请填写出生日期。")]
        if data.gender not in ("M", "F"):
            errors["gender"] = [_("请选择性别。")]
    if fields.get("birth_date") and fields["birth_date"] > timezone.localdate():
        errors["birth_date"] = [_("出生日期不能晚于今天。")]
    try:
        fields["phone"] = clean_phone(data.phone, required=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if data.residence_type not in RESIDENCE_TYPES:
        errors["residence_type"] = [_("人口类型无效。")]
    elif data.residence_type == ResidenceType.INCOMING:
        if not (data.residence_permit_number or "").strip():
            errors["residence_permit_number"] = [_("来沪人员请填写居住证号码。")]
        if data.residence_permit_expiry is None:
            errors["residence_permit_expiry"] = [_("来沪人员请填写居住证有效期。")]
    else:
        fields["residence_permit_number"], fields["residence_permit_expiry"] = "", None
    if errors:
        raise ValidationError(errors)
    fields["residence_permit_number"] = (fields["residence_permit_number"] or "").strip()
    fields["registered_address"] = (fields["registered_address"] or "").strip()
    return fields


def _duplicate(id_type: str, id_number: str) -> ValidationError:
    existing = Person.objects.filter(id_type=id_type, id_number=id_number).first()
    where = (
        Place.objects.filter(code=existing.place_code).values_list("name", flat=True).first()
        if existing
        else None
    )
    return ValidationError(
        {
            "id_number": [
                _("该证件号码已登记（%(name)s，%(place)s），同一人不能重复登记，请查找后修改原记录。")
                % {"name": mask_name(existing.name) if existing else "", "place": where or _("未知居住地")}
            ]
        }
    )


@transaction.atomic
def register_person(
    *,
    by: Any,
    data: PersonData,
    household: Household | None = None,
    relation: str = Relation.HEAD,
    joined_on: dt.date | None = None,
) -> Person:
    """A new person, optionally joining a household at once. A document already registered is
    refused (whatever the earlier record's status), naming where it lives."""
    fields = clean_person(data)
    if Person.objects.filter(id_type=fields["id_type"], id_number=fields["id_number"]).exists():
        raise _duplicate(fields["id_type"], fields["id_number"])
    full, initials = pinyin_keys(fields["name"])
    try:
        with transaction.atomic():
            person = Person.objects.create(**fields, name_pinyin=full, name_initials=initials)
    except IntegrityError:  # registered a moment ago by someone else
        raise _duplicate(fields["id_type"], fields["id_number"]) from None
    record_change(
        actor=by, action=ChangeAction.CREATE, obj=person, place_code=person.place_code, after=_public(person)
    )
    if household is not None:
        move_in(
            by=by, person=person, household=household, relation=relation, on=joined_on or timezone.localdate()
        )
        person.refresh_from_db()
    return person


def _public(person: Person) -> dict[str, Any]:
    """What the change log keeps of a person: no document or phone number in clear (the log is
    read more widely than the register)."""
    data = snapshot(person, exclude=("name_pinyin", "name_initials", "id_number", "phone"))
    data["id_number_end"] = person.id_number[-4:]
    return data


@transaction.atomic
def create_house(
    *,
    by: Any,
    place_code: str,
    estate: str,
    building: str,
    unit: str = "",
    room: str,
    kind: str = HouseKind.OWNED,
    grid_code: str = "",
) -> House:
    errors: dict[str, list[str]] = {}
    committee = Place.objects.filter(code=place_code, kind="committee").first()
    if committee is None:
        errors["place_code"] = [_("居委会代码“%(code)s”不存在。") % {"code": place_code}]
    if (
        grid_code
        and not Place.objects.filter(code=grid_code, kind="grid", code__startswith=place_code).exists()
    ):
        errors["grid_code"] = [_("单元网格“%(code)s”不在该居委会内。") % {"code": grid_code}]
    for name, value, label in (
        ("estate", estate, _("小区/路弄")),
        ("building", building, _("楼号")),
        ("room", room, _("室号")),
    ):
        if not (value or "").strip():
            errors[name] = [_("请填写%(field)s。") % {"field": label}]
    if kind not in HouseKind.values:
        errors["kind"] = [_("房屋类型无效。")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            house = House.objects.create(
                place_code=place_code,
                grid_code=grid_code,
                estate=estate.strip(),
                building=building.strip(),
                unit=(unit or "").strip(),
                room=room.strip(),
                kind=kind,
            )
    except IntegrityError:
        raise ValidationError({"room": [_("该地址的房屋已登记。")]}) from None
    record_change(
        actor=by, action=ChangeAction.CREATE, obj=house, place_code=place_code, after=snapshot(house)
    )
    return house


@transaction.atomic
def create_household(*, by: Any, kind: str, house: House, number: str = "") -> Household:
    if kind not in HouseholdKind.values:
        raise ValidationError({"kind": [_("户类型无效。")]})
    household = Household.objects.create(
        kind=kind, house=house, number=(number or "").strip(), place_code=house.place_code
    )
    record_change(
        actor=by,
        action=ChangeAction.CREATE,
        obj=household,
        place_code=house.place_code,
        after=snapshot(household),
    )
    return household


def _current(person: Person, kind: str) -> Membership | None:
    return (
        Membership.objects.select_for_update()
        .filter(person=person, kind=kind, left_on__isnull=True)
        .select_related("household")
        .first()
    )


def _check_leaving(current: Membership, on: dt.date, field: str) -> None:
    if on < current.joined_on:
        raise ValidationError(
            {
                field: [
                    _("迁出日期 %(left)s 早于迁入日期 %(joined)s，请核对。")
                    % {"left": on, "joined": current.joined_on}
                ]
            }
        )


@transaction.atomic
def move_in(*, by: Any, person: Person, household: Household, relation: str, on: dt.date) -> Membership:
    """The person joins `household` on `on`; their current household of the same kind is left
    the same day (kept as history). Joining the actual household moves their place."""
    if relation not in Relation.values:
        raise ValidationError({"relation": [_("与户主关系无效。")]})
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.status in (PersonStatus.DECEASED, PersonStatus.CANCELLED):
        raise ValidationError(
            {
                "person": [
                    _("%(name)s 已%(status)s，不能迁入。")
                    % {"name": person.name, "status": person.get_status_display()}
                ]
            }
        )
    current = _current(person, household.kind)
    if current is not None:
        if current.household_id == household.pk:
            raise ValidationError({"household": [_("%(name)s 已是该户成员。") % {"name": person.name}]})
        _leave(current, on, _("迁入其他户"))
    if (
        relation == Relation.HEAD
        and Membership.objects.filter(
            household=household, relation=Relation.HEAD, left_on__isnull=True
        ).exists()
    ):
        raise ValidationError({"relation": [_("该户已有户主，请选择其他关系或先变更户主。")]})
    membership = Membership.objects.create(
        household=household, person=person, kind=household.kind, relation=relation, joined_on=on
    )
    if household.kind == HouseholdKind.ACTUAL:
        changes: dict[str, Any] = {"place_code": household.place_code}
        if person.status == PersonStatus.MOVED_OUT:
            changes.update(status=PersonStatus.ACTIVE, status_on=on)
        _update_person(by, person, **changes)
    return membership


@transaction.atomic
def move_out(*, by: Any, person: Person, on: dt.date, reason: str = "") -> None:
    """The person leaves the street: their actual household is left on `on` (the registered one
    stays: that is person-household separation, 户在人不在)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    current = _current(person, HouseholdKind.ACTUAL)
    if current is None:
        raise ValidationError({"person": [_("%(name)s 当前没有实住户，无需迁出。") % {"name": person.name}]})
    _leave(current, on, (reason or _("迁出本街道")).strip()[:100])
    _update_person(by, person, status=PersonStatus.MOVED_OUT, status_on=on)


@transaction.atomic
def record_death(*, by: Any, person: Person, on: dt.date) -> None:
    """死亡: every current membership ends on that day; the person stays, with their history."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if on > timezone.localdate():
        raise ValidationError({"on": [_("死亡日期不能晚于今天。")]})
    for current in Membership.objects.filter(person=person, left_on__isnull=True):
        _leave(current, on, _("死亡"))
    _update_person(by, person, status=PersonStatus.DECEASED, status_on=on)


def _leave(membership: Membership, on: dt.date, reason: str) -> None:
    _check_leaving(membership, on, "on")
    membership.left_on, membership.left_reason = on, reason
    membership.save(update_fields=["left_on", "left_reason"])


def _update_person(by: Any, person: Person, **changes: Any) -> None:
    """Apply `changes` to a locked person, bump the version, log before and after."""
    before = _public(person)
    for name, value in changes.items():
        setattr(person, name, value)
    person.version += 1
    person.save()
    record_change(
        actor=by,
        action=ChangeAction.UPDATE,
        obj=person,
        place_code=person.place_code,
        before=before,
        after=_public(person),
    )


# The person's own fields an edit may change (change requests, FIELD_GROUPS); the rest (place,
# status, search keys, version) follow from moves and from these.
EDITABLE_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "residence_type",
    "residence_permit_number",
    "residence_permit_expiry",
    "registered_address",
)


def clean_person_changes(person: Person, values: dict[str, Any]) -> dict[str, Any]:
    """The fields of `person` that `values` would change, cleaned. The whole person is checked
    with the new values laid over the current ones (ID checksum, birth date and gender against
    the ID, phone, permit only for incoming), and a document registered to someone else is
    refused, as at registration. Fields left out of `values` keep their current value."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable person fields: {sorted(unknown)}")
    current = {name: getattr(person, name) for name in EDITABLE_FIELDS}
    fields = clean_person(PersonData(**{**current, **values}))
    changes = {name: fields[name] for name in EDITABLE_FIELDS if fields[name] != current[name]}
    if {"id_type", "id_number"} & set(changes) and (
        Person.objects.filter(id_type=fields["id_type"], id_number=fields["id_number"])
        .exclude(pk=person.pk)
        .exists()
    ):
        raise _duplicate(fields["id_type"], fields["id_number"])
    return changes


@transaction.atomic
def update_person(*, by: Any, person: Person, values: dict[str, Any]) -> Person:
    """Change a person's own fields (`EDITABLE_FIELDS`), checked by `clean_person_changes`: the
    row is locked, the name's search keys follow the name, the version is bumped and the change
    logged. Returns the updated row; nothing changed, nothing written."""
    locked = Person.objects.select_for_update().get(pk=person.pk)
    changes = clean_person_changes(locked, values)
    if not changes:
        return locked
    if "name" in changes:
        changes["name_pinyin"], changes["name_initials"] = pinyin_keys(changes["name"])
    try:
        with transaction.atomic():
            _update_person(by, locked, **changes)
    except IntegrityError:  # the same document registered a moment ago by someone else
        raise _duplicate(locked.id_type, locked.id_number) from None
    return locked


@transaction.atomic
def add_tag(
    *,
    by: Any,
    person: Person,
    tag: str,
    source: str,
    since: dt.date,
    level: int | None = None,
    note: str = "",
) -> PersonTag:
    errors: dict[str, list[str]] = {}
    if tag not in Tag.values:
        errors["tag"] = [_("标签无效。")]
    if not (source or "").strip():
        errors["source"] = [_("请填写数据来源。")]
    if tag == Tag.DISABILITY and level not in (1, 2, 3, 4):
        errors["level"] = [_("残疾等级应为一至四级。")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            row = PersonTag.objects.create(
                person=person,
                tag=tag,
                level=level if tag == Tag.DISABILITY else None,
                source=source.strip(),
                since=since,
                note=(note or "").strip(),
            )
    except IntegrityError:
        raise ValidationError(
            {"tag": [_("%(name)s 已有有效的“%(tag)s”标签。") % {"name": person.name, "tag": Tag(tag).label}]}
        ) from None
    record_change(
        actor=by, action=ChangeAction.CREATE, obj=row, place_code=person.place_code, after=snapshot(row)
    )
    return row


# ------------------------------------------------------------------------------ derived facts


def current_memberships(person: Person) -> dict[str, Membership]:
    """The person's current household of each kind, with household and house."""
    rows = Membership.objects.filter(person=person, left_on__isnull=True).select_related("household__house")
    return {m.kind: m for m in rows}


def computed_tags(
    person: Person, today: dt.date | None = None, current: dict[str, Membership] | None = None
) -> list[str]:
    """Age band, living alone, elders-only household and separation, derived on the spot
    (`current`: the person's `current_memberships`, when the caller has them already)."""
    today = today or timezone.localdate()
    tags: list[str] = []
    age = person.age_on(today)
    for threshold, tag in AGE_BANDS:
        if age >= threshold:
            tags.append(tag)
            break
    current = current_memberships(person) if current is None else current
    actual = current.get(HouseholdKind.ACTUAL)
    if actual is not None and age >= ELDER_AGE:
        births = list(
            Membership.objects.filter(household_id=actual.household_id, left_on__isnull=True).values_list(
                "person__birth_date", flat=True
            )
        )
        if len(births) == 1:
            tags.append(ComputedTag.LIVES_ALONE)
        elif all(_age(born, today) >= ELDER_AGE for born in births):
            tags.append(ComputedTag.ELDERS_ONLY)
    if _separation(person, current):
        tags.append(ComputedTag.SEPARATED)
    return tags


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def separation(person: Person, current: dict[str, Membership] | None = None) -> str:
    """人户分离, from the registered address against the actual one: 人在户不在 (lives here,
    registered elsewhere), 户在人不在 (registered here, lives elsewhere), or ""."""
    return _separation(person, current_memberships(person) if current is None else current)


def _separation(person: Person, current: dict[str, Membership]) -> str:
    registered, actual = current.get(HouseholdKind.REGISTERED), current.get(HouseholdKind.ACTUAL)
    if person.residence_type != ResidenceType.REGISTERED:
        return ""  # incoming and foreign residents are registered elsewhere by definition
    if actual is not None and (
        registered is None or registered.household.house_id != actual.household.house_id
    ):
        return str(_("人在户不在"))
    if registered is not None and actual is None:
        return str(_("户在人不在"))
    return ""
