"""What happens at the acceptance centre's desk and behind it (DESIGN §4.1).

`accept` is the front desk's one door: with every mandatory material present the case is
accepted (and, for an on-the-spot matter, finished at once); with anything missing the applicant
gets a one-time notice listing all of it instead. Back-office work runs on the work-order engine;
this module adds what the centre needs on top: parallel sub-tasks, delivery, and first-inquiry
records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import Department
from shequ.accounts.scoping import ADD, jurisdiction, scope_rule
from shequ.audit.services import actor_identity
from shequ.core.idnumbers import age_on, clean_document, clean_phone
from shequ.workorders import services as engine
from shequ.workorders.choices import Channel, StatusGroup
from shequ.workorders.models import WorkOrder

from .choices import DeliveryMethod, IdType
from .models import Case, Inquiry, Matter, MatterMaterial, OneTimeNotice
from .processes import CASE_KIND, SUBTASK_KIND

PROXY_AGE = 70


@dataclass(frozen=True)
class ApplicantData:
    name: str
    id_number: str
    phone: str
    id_type: str = IdType.RESIDENT_ID
    address: str = ""
    proxy_name: str = ""
    proxy_id_number: str = ""
    person_id: int | None = None


def clean_applicant(data: ApplicantData) -> ApplicantData:
    """The applicant with normalised numbers, or a ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = [_("请填写申请人姓名。")]
    for key, check in (
        ("id_number", lambda: clean_document(data.id_type, data.id_number)),
        ("phone", lambda: clean_phone(data.phone)),
    ):
        try:
            values[key] = check()
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors.setdefault(field_name, []).extend(messages)
    proxy_id = ""
    if data.proxy_name.strip() or data.proxy_id_number.strip():
        try:
            proxy_id = clean_document(IdType.RESIDENT_ID, data.proxy_id_number, "proxy_id_number")
        except ValidationError as exc:
            errors.setdefault("proxy_id_number", []).extend(exc.message_dict["proxy_id_number"])
        if not data.proxy_name.strip():
            errors["proxy_name"] = [_("请填写代办人姓名。")]
    if errors:
        raise ValidationError(errors)
    return ApplicantData(
        name=name[:50],
        id_type=data.id_type,
        id_number=values["id_number"],
        phone=values["phone"],
        address=(data.address or "").strip()[:200],
        proxy_name=data.proxy_name.strip()[:50],
        proxy_id_number=proxy_id,
        person_id=data.person_id,
    )


def proxy_prompt(
    applicant: ApplicantData,
    *,
    disabled: bool = False,
    today: dt.date | None = None,
    reasons: Sequence[str] | None = None,
    proxy_note: str = "",
) -> str | None:
    """The desk's reminder that the applicant may use proxy or home-visit service (政务代理).

    `reasons`: what the resident database says (age band, living alone, disability with its
    level, 低保 …; see shequ.people.desk.eligibility), or None when the applicant is not on
    record, in which case the age in the ID number and the "持残疾人证" box decide.
    `proxy_note`: how the proxy stands to the applicant, when one applies for them."""
    text: str | None = None
    if reasons is not None:
        if reasons:
            text = _("可提供代办或预约上门服务：%(reasons)s。") % {"reasons": "、".join(reasons)}
    else:
        age = (
            age_on(applicant.id_number, today or timezone.localdate())
            if applicant.id_type == IdType.RESIDENT_ID
            else None
        )
        if age is not None and age >= PROXY_AGE:
            text = _("申请人已满 %(age)d 周岁，可提供代办或预约上门服务。") % {"age": age}
        elif disabled:
            text = _("申请人为残疾人，可提供代办或预约上门服务。")
    if proxy_note:
        note = _("代办人：%(note)s。") % {"note": proxy_note}
        text = f"{text}{note}" if text else note
    return text


def _check_desk_scope(by: Any, model: type, place_code: str) -> None:
    if isinstance(by, str) or getattr(by, "is_superuser", False):
        return
    allowed = scope_rule(model).roles.get(ADD, ())
    if not any(place_code.startswith(prefix) for prefix in jurisdiction(by, allowed)):
        raise PermissionDenied(_("您不能在辖区之外受理事项。"))


def _department(matter: Matter, street_code: str, code: str | None = None) -> Department:
    code = code or matter.department_code
    department = (
        Department.objects.select_related("place")
        .filter(place__code=street_code, code=code, is_active=True)
        .first()
    )
    if department is None:
        raise ValidationError(
            {
                "matter": [
                    _("本街道未设置事项“%(matter)s”的承办科室（%(code)s）。")
                    % {"matter": matter.name, "code": code}
                ]
            }
        )
    return department


@dataclass
class AcceptResult:
    case: Case | None = None
    notice: OneTimeNotice | None = None
    missing: list[MatterMaterial] = field(default_factory=list)


@transaction.atomic
def accept(
    *,
    by: Any,
    matter: Matter,
    applicant: ApplicantData,
    received: list[int],
    place_code: str,
    delivery_method: str = DeliveryMethod.WINDOW,
    delivery_address: str = "",
    finish_on_spot: bool = False,
    channel: str = Channel.COUNTER,
    now: dt.datetime | None = None,
) -> AcceptResult:
    """Accept a case, or issue a one-time notice when mandatory materials are missing."""
    if not matter.is_active:
        raise ValidationError({"matter": [_("事项“%(name)s”已停止受理。") % {"name": matter.name}]})
    if delivery_method not in DeliveryMethod.values:
        raise ValidationError({"delivery_method": [_("送达方式无效。")]})
    if (
        delivery_method in (DeliveryMethod.POST, DeliveryMethod.COURIER, DeliveryMethod.HOME)
        and not delivery_address.strip()
    ):
        raise ValidationError({"delivery_address": [_("邮寄、快递或上门送达需要填写送达地址。")]})
    materials = list(matter.materials.all())
    if stray := set(received) - {m.pk for m in materials}:
        raise ValidationError({"received": [_("材料编号 %(ids)s 不属于该事项。") % {"ids": sorted(stray)}]})
    applicant = clean_applicant(applicant)
    _check_desk_scope(by, Case, place_code)
    street_code = place_code[:9]
    missing = [m for m in materials if m.mandatory and m.pk not in set(received)]
    actor_id, actor_name = actor_identity(by)
    if missing:
        notice = OneTimeNotice.objects.create(
            number=engine.allocate_number("GZ", timezone.localdate()),
            matter=matter,
            place_code=place_code,
            missing=[
                {"id": m.pk, "name": m.name, "form": m.get_form_display(), "copies": m.copies, "note": m.note}
                for m in missing
            ],
            issued_by_id=actor_id,
            issued_by_name=actor_name,
            **_applicant_fields(applicant),
        )
        return AcceptResult(notice=notice, missing=missing)
    order = engine.create_order(
        kind=CASE_KIND,
        by=by,
        place_code=place_code,
        title=matter.name,
        channel=channel,
        subject=engine.Subject(name=applicant.name, phone=applicant.phone, person_id=applicant.person_id),
        assignee_department=_department(matter, street_code),
        data={"matter": matter.code, "promised_days": matter.promised_days},
        now=now,
    )
    case = Case.objects.create(
        order=order,
        matter=matter,
        place_code=place_code,
        proxy_name=applicant.proxy_name,
        proxy_id_number=applicant.proxy_id_number,
        materials_received=sorted(received),
        delivery_method=delivery_method,
        delivery_address=delivery_address.strip()[:200],
        accepted_by_id=actor_id,
        **_applicant_fields(applicant),
    )
    engine.record_order_event(order, "accepted", by, matter=matter.code, materials=len(received))
    if finish_on_spot:
        if not matter.on_the_spot:
            raise ValidationError({"matter": [_("事项“%(name)s”不能当场办结。") % {"name": matter.name}]})
        engine.perform(order=order, by=by, action="finish_on_spot", comment=_("当场办结"))
        case.refresh_from_db()
    return AcceptResult(case=case)


def _applicant_fields(applicant: ApplicantData) -> dict[str, Any]:
    return {
        "name": applicant.name,
        "id_type": applicant.id_type,
        "id_number": applicant.id_number,
        "phone": applicant.phone,
        "address": applicant.address,
        "person_id": applicant.person_id,
    }


@transaction.atomic
def coordinate(*, case: Case, by: Any, expected_version: int | None = None) -> list[WorkOrder]:
    """后台协同: split the examination into one sub-task per department, handled in parallel."""
    matter = case.matter
    codes = [
        matter.department_code,
        *[c for c in matter.cooperating_departments if c != matter.department_code],
    ]
    if len(codes) < 2:
        raise ValidationError(
            {"matter": [_("事项“%(name)s”没有协同科室，无需协同办理。") % {"name": matter.name}]}
        )
    street_code = case.place_code[:9]
    departments = [_department(matter, street_code, code) for code in codes]
    order = engine.perform(order=case.order, by=by, action="coordinate", expected_version=expected_version)
    return [
        engine.create_order(
            kind=SUBTASK_KIND,
            by=by,
            place_code=order.place_code,
            title=_("协同：%(title)s（%(dept)s）") % {"title": order.title, "dept": department.name},
            channel=Channel.SYSTEM,
            subject=engine.Subject(
                name=order.subject_name, phone=order.subject_phone, person_id=order.subject_person_id
            ),
            assignee_department=department,
            parent=order,
            data={"promised_days": order.data.get("promised_days"), "matter": order.data.get("matter")},
        )
        for department in departments
    ]


def finish_coordination_if_done(subtask: WorkOrder) -> WorkOrder | None:
    """When the last sub-task of a case closes, the case moves on to delivery (called by the engine)."""
    parent = subtask.parent
    if parent is None or parent.kind != CASE_KIND or parent.step != "coordinating":
        return None
    siblings = WorkOrder.objects.filter(parent=parent, kind=SUBTASK_KIND)
    if siblings.exclude(status=StatusGroup.CLOSED).exists():
        return None
    refused = siblings.filter(events__data__action="disagree").exists()
    return engine.perform(
        order=parent,
        by=_("协同完成"),
        action="finish_coordination",
        data={"decision": "rejected" if refused else "approved"},
    )


def deliver(
    *,
    case: Case,
    by: Any,
    method: str | None = None,
    tracking_number: str = "",
    address: str = "",
    expected_version: int | None = None,
) -> Case:
    """送达: record how the result reached the applicant and close the case."""
    method = method or case.delivery_method
    if method not in DeliveryMethod.values:
        raise ValidationError({"delivery_method": [_("送达方式无效。")]})
    if method in (DeliveryMethod.POST, DeliveryMethod.COURIER) and not tracking_number.strip():
        raise ValidationError({"tracking_number": [_("邮寄或快递送达需要填写快递单号。")]})
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(
            delivery_method=method,
            tracking_number=tracking_number.strip()[:50],
            delivery_address=(address or case.delivery_address).strip()[:200],
        )
        engine.perform(
            order=case.order,
            by=by,
            action="deliver",
            expected_version=expected_version,
            data={"delivery_method": method, "tracking_number": tracking_number.strip()[:50]},
        )
    case.refresh_from_db()
    return case


@transaction.atomic
def book_home_visit(*, case: Case, by: Any, when: dt.datetime) -> Case:
    """政务代理: book a home visit for an elderly or disabled applicant; the clock waits for it."""
    if timezone.is_naive(when):
        raise ValidationError({"home_visit_at": [_("上门时间无效。")]})
    if when <= timezone.now():
        raise ValidationError({"home_visit_at": [_("上门时间应晚于现在。")]})
    Case.objects.filter(pk=case.pk).update(home_visit_at=when)
    engine.pause(
        order=case.order,
        by=by,
        reason="home_visit",
        comment=_("预约上门服务：%(when)s") % {"when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")},
    )
    case.refresh_from_db()
    return case


@transaction.atomic
def record_inquiry(
    *,
    by: Any,
    place_code: str,
    question: str,
    answer: str,
    matter: Matter | None = None,
    visitor_name: str = "",
    visitor_phone: str = "",
    referred_to: str = "",
    channel: str = Channel.COUNTER,
) -> Inquiry:
    """首问负责: whoever is asked first records the question and the answer given."""
    errors: dict[str, list[str]] = {}
    if not (question or "").strip():
        errors["question"] = [_("请填写咨询内容。")]
    if not (answer or "").strip():
        errors["answer"] = [_("请填写答复内容。")]
    phone = ""
    try:
        phone = clean_phone(visitor_phone, "visitor_phone", required=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_desk_scope(by, Inquiry, place_code)
    staff_id, staff_name = actor_identity(by)
    return Inquiry.objects.create(
        place_code=place_code,
        staff_id=staff_id or 0,
        staff_name=staff_name,
        matter=matter,
        channel=channel,
        visitor_name=visitor_name.strip()[:50],
        visitor_phone=phone,
        question=question.strip(),
        answer=answer.strip(),
        referred_to=referred_to.strip()[:100],
    )
