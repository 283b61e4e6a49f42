"""Identity documents and phone numbers: validation with messages that name the field.

Resident ID numbers (GB 11643) are checked with python-stdnum's `stdnum.cn.ric` for the check
digit and the birth date. Its area-code table (loc.dat) is older than some current codes: it
lacks 310151 崇明区 (a district since 2016) and rejects every number issued there, so the area
code is accepted when stdnum knows it or when it is a county-level code in our place tree.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import (
    ValidationError as StdnumError,
)

PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$")
TAIWAN = re.compile(r"^\d{8}(\d{2})?$")
FOREIGN_PR = re.compile(r"^[A-Z0-9]{15,18}$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def _known_area(code: str) -> bool:
    from shequ.places.models import Place

    return Place.objects.filter(code=code, kind="district").exists()


RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")


@functools.lru_cache(maxsize=65536)
def _area_valid_in(area: str, year: int) -> bool:
    """Whether `area` is accepted for someone born in `year`: stdnum's table has it as a county
    then (codes come and go), or it is a district of our place tree (cached for the process's
    life: districts are not removed while it runs)."""
    try:
        ric.get_birth_place(f"{area}{year:04d}01010000")
    except StdnumError:
        return _known_area(area)
    return True


def _plainly_valid(number: str) -> bool:
    """The checks `ric.validate` makes, for an 18-character number, without its repeated
    normalising: an import checks tens of thousands a second. False sends the number down the
    full path, which says what is wrong."""
    if ric.calc_check_digit(number) != number[17]:
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return birth <= dt.date.today() and _area_valid_in(number[:6], birth.year)


def clean_resident_id(value: str, field: str = "id_number") -> str:
    quick = (value or "").strip().upper()
    if RESIDENT_ID.match(quick) and _plainly_valid(quick):
        return quick
    number = ric.compact(value or "")
    if not number:
        raise ValidationError({field: [_("请填写身份证号码。")]})
    try:
        ric.validate(number)
        return number
    except InvalidLength:
        raise ValidationError(
            {field: [_("身份证号码应为 18 位，当前为 %(n)d 位。") % {"n": len(number)}]}
        ) from None
    except InvalidFormat:
        raise ValidationError(
            {field: [_("身份证号码格式不正确：前 17 位应为数字，最后一位为数字或 X。")]}
        ) from None
    except InvalidChecksum:
        raise ValidationError({field: [_("身份证号码校验位不正确，请核对是否输错。")]}) from None
    except InvalidComponent:
        # Either the birth date or the area code; the date is checked first by stdnum.
        try:
            birth = ric.get_birth_date(number)
        except StdnumError:
            raise ValidationError({field: [_("身份证号码中的出生日期无效。")]}) from None
        if birth > dt.date.today():
            raise ValidationError({field: [_("身份证号码中的出生日期无效。")]}) from None
        if _known_area(number[:6]):
            return number
        raise ValidationError(
            {field: [_("身份证号码前 6 位“%(area)s”不是有效的行政区划代码。") % {"area": number[:6]}]}
        ) from None


def clean_document(id_type: str, value: str, field: str = "id_number") -> str:
    """Normalise and check a document number of the given type."""
    number = re.sub(r"\s+", "", value or "").upper()
    if id_type == "resident_id":
        return clean_resident_id(number, field)
    patterns = {"passport": PASSPORT, "hk_macao": HK_MACAO, "taiwan": TAIWAN, "foreign_pr": FOREIGN_PR}
    pattern = patterns.get(id_type)
    if pattern is None:
        raise ValidationError({"id_type": [_("证件类型无效。")]})
    if not number:
        raise ValidationError({field: [_("请填写证件号码。")]})
    if not pattern.match(number):
        raise ValidationError({field: [_("证件号码“%(value)s”的格式不正确。") % {"value": number}]})
    return number


def clean_phone(value: str, field: str = "phone", *, required: bool = True) -> str:
    phone = re.sub(r"[\s()（）]", "", value or "").removeprefix("+86")
    if not phone:
        if required:
            raise ValidationError({field: [_("请填写联系电话。")]})
        return ""
    if MOBILE.match(phone) or LANDLINE.match(phone):
        return phone
    raise ValidationError(
        {field: [_("联系电话“%(value)s”无效：应为 11 位手机号码或带区号的固定电话。") % {"value": phone}]}
    )


def age_on(number: str, day: dt.date) -> int | None:
    """Age on `day` from a resident ID number (None if not a valid resident ID)."""
    try:
        birth = ric.get_birth_date(number)
    except (StdnumError, ValueError):
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def make_resident_id(area: str, birth: dt.date, sequence: int) -> str:
    """A well-formed resident ID number (GB 11643 check digit), for demo and benchmark data.

    An odd `sequence` makes a man, an even one a woman.
    """
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # (stdnum expects a placeholder check digit)
