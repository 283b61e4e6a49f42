"""Pages of the acceptance centre: the front desk, the case page, notices, first-inquiry records
and statistics. Back-office examination happens on the engine's order page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.scoping import (
    ADD,
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
from shequ.core import xlsx
from shequ.core.actions import form_errors_as_messages, run_action
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_id_number, mask_name, mask_phone
from shequ.core.pagination import keyset_page
from shequ.people import desk as people_desk
from shequ.people.models import Person
from shequ.places.models import Place

from . import origins, services
from .forms import AcceptForm, DeliverForm, HomeVisitForm, InquiryForm, RevealForm, StatsForm
from .models import Case, Inquiry, Matter, OneTimeNotice
from .stats import build_report, report_xlsx

APPLICANT_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "phone",
    "address",
    "proxy_name",
    "proxy_id_number",
    "disabled",
)


def _desk_places(user: Any) -> list[Place]:
    """The places a clerk may accept for: their street(s) and the committees in them."""
    if user.is_superuser:
        return list(Place.objects.filter(kind__in=["street", "committee"]).order_by("code")[:500])
    prefixes = jurisdiction(user, scope_rule(Case).roles.get(ADD, ()))
    if not prefixes:
        return []
    places = Place.objects.none()
    for prefix in prefixes:
        places |= Place.objects.filter(code__within=prefix, kind__in=["street", "committee"])
    return list(places.order_by("code")[:500])


def _error_messages(request: AuthedRequest, exc: ValidationError, form: Any | None = None) -> None:
    if hasattr(exc, "error_dict") and form is not None:
        for field_name, errors in exc.message_dict.items():
            target = field_name if field_name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            messages.error(request, error)


@login_required
@require_http_methods(["GET", "POST"])
def desk(request: AuthedRequest) -> HttpResponse:
    """一门式受理: find the matter, enter the applicant, tick the materials, accept or notify."""
    if not may_act(request.user, Case, ADD):
        raise PermissionDenied
    places = _desk_places(request.user)
    origin = origins.resolve(request.POST.get("origin") or request.GET.get("origin", ""), request.user)
    initial = origin[0].prefill(origin[1], request.user) if origin else {}
    form = AcceptForm(request.POST or None, initial=initial)
    prompt = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        place_code = request.POST.get("place_code") or (places[0].code if places else "")
        # The applicant on record in the clerk's places, found again now by the document
        # number entered: the case is linked to them and may use their stored phone.
        person = people_desk.find_applicant(request.user, data["id_type"], data["id_number"])
        if place_code not in {p.code for p in places}:
            form.add_error(None, _("请选择受理区划。"))
        elif data["use_stored_phone"] and not people_desk.stored_phone(person):
            form.add_error("phone", _("人口库中没有该申请人的登记电话，请填写联系电话。"))
        else:
            applicant = services.ApplicantData(
                name=data["name"],
                id_type=data["id_type"],
                id_number=data["id_number"],
                phone=people_desk.stored_phone(person) if data["use_stored_phone"] else data["phone"],
                address=data["address"],
                proxy_name=data["proxy_name"],
                proxy_id_number=data["proxy_id_number"],
                person_id=person.pk if person else None,
            )
            try:
                outcome = run_once(
                    key=key_from(request),
                    user_id=request.user.pk,
                    scope="affairs.accept",
                    action=lambda: services.accept(
                        by=request.user,
                        matter=data["matter"],
                        applicant=applicant,
                        received=data["received"],
                        place_code=place_code,
                        delivery_method=data["delivery_method"],
                        delivery_address=data["delivery_address"],
                        finish_on_spot=data["finish_on_spot"],
                    ),
                    encode=lambda result: {
                        "case": result.case.pk if result.case else None,
                        "notice": result.notice.pk if result.notice else None,
                    },
                    decode=lambda stored: services.AcceptResult(
                        case=Case.objects.filter(pk=stored["case"]).first(),
                        notice=OneTimeNotice.objects.filter(pk=stored["notice"]).first(),
                    ),
                )
            except ValidationError as exc:
                _error_messages(request, exc, form)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                result = outcome.value
                if result.notice is not None:
                    messages.warning(request, _("材料不齐，已出具一次性告知书。"))
                    return redirect("affairs:notice", number=result.notice.number)
                assert result.case is not None
                if origin is not None:
                    _link_origin(request, origin, result.case.order)
                prompt = _proxy_prompt(applicant, person, data)
                if prompt:
                    messages.info(request, prompt)
                messages.success(
                    request, _("已受理，办件编号 %(number)s。") % {"number": result.case.order.number}
                )
                return redirect("affairs:case", number=result.case.order.number)
    matter = form.cleaned_data.get("matter") if form.is_bound and hasattr(form, "cleaned_data") else None
    return render(
        request,
        "affairs/desk.html",
        {
            "form": form,
            "places": places,
            "matters": Matter.objects.filter(is_active=True).order_by("category", "sort_order", "code"),
            "matter": matter,
            "selected_place": request.POST.get("place_code", ""),
            "origin": origin,
            "applicant_fields": [form[name] for name in APPLICANT_FIELDS],
            "lookup_allowed": may_act(request.user, Person, VIEW),
            "delivery_fields": [
                form[name] for name in ("delivery_method", "delivery_address", "finish_on_spot")
            ],
        },
    )


def _proxy_prompt(applicant: services.ApplicantData, person: Any, data: dict[str, Any]) -> str | None:
    """The proxy-service reminder, from the resident record when the applicant is on it."""
    if person is None:
        return services.proxy_prompt(applicant, disabled=data["disabled"])
    check = people_desk.check_proxy(person, data["proxy_id_number"]) if data["proxy_id_number"] else None
    return services.proxy_prompt(
        applicant,
        disabled=data["disabled"],
        reasons=people_desk.eligibility(person, disabled=data["disabled"]).reasons,
        proxy_note=check.text if check else "",
    )


def _link_origin(request: AuthedRequest, origin: tuple[origins.Origin, str, str], order: Any) -> None:
    """Point the ticket (or call, or report) the case came from at the new case; the case stands
    even when that fails (the ticket was meanwhile finished elsewhere, say)."""
    kind, key, label = origin
    try:
        kind.link(key, request.user, order)
    except (ValidationError, PermissionDenied) as exc:  # (ConflictError is a ValidationError)
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.warning(
            request, _("办件已受理，但未能关联%(origin)s：%(reason)s") % {"origin": label, "reason": reason}
        )


@login_required
@require_GET
def materials(request: AuthedRequest) -> HttpResponse:
    """The matter's material checklist and key facts, swapped into the desk form by htmx."""
    matter_id = request.GET.get("matter", "")
    matter = (
        Matter.objects.filter(pk=matter_id, is_active=True).prefetch_related("materials").first()
        if matter_id.isdigit()
        else None
    )
    return render(request, "affairs/partials/materials.html", {"matter": matter})


def _case(request: AuthedRequest, number: str) -> Case:
    return get_scoped_or_404(
        Case.objects.select_related("order", "matter", "order__assignee_department"),
        request.user,
        VIEW,
        order__number=number,
    )


@login_required
@require_GET
def case_detail(request: AuthedRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    order = case.order
    received = set(case.materials_received)
    return render(
        request,
        "affairs/case.html",
        {
            "case": case,
            "order": order,
            "materials": [(m, m.pk in received) for m in case.matter.materials.all()],
            "masked_id": mask_id_number(case.id_number),
            "masked_phone": mask_phone(case.phone),
            "can_reveal": may_act(request.user, Case, REVEAL),
            "deliver_form": DeliverForm(
                initial={
                    "delivery_method": case.delivery_method,
                    "delivery_address": case.delivery_address,
                    "version": order.version,
                }
            ),
            "can_deliver": order.step == "delivering" and _can(request, order, "deliver"),
            "can_coordinate": order.step == "examining"
            and bool(case.matter.cooperating_departments)
            and _can(request, order, "coordinate"),
            "home_visit_form": HomeVisitForm(),
            "subtasks": order.children.all(),
        },
    )


def _can(request: AuthedRequest, order: Any, action: str) -> bool:
    from shequ.workorders.permissions import may_perform

    transition = order.process.transition(order.step, action)
    return transition is not None and may_perform(request.user, order, transition)


@login_required
@require_GET
def receipt_pdf(request: AuthedRequest, number: str) -> HttpResponse:
    from .pdf import receipt_pdf as render_receipt

    case = _case(request, number)
    url = request.build_absolute_uri(reverse("tracking:track") + f"?number={case.order.number}")
    response = HttpResponse(render_receipt(case, tracking_url=url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{case.order.number}.pdf"'
    return response


def _case_action(request: AuthedRequest, number: str, scope: str, do: Any, success: str) -> HttpResponse:
    case = _case(request, number)
    return run_action(
        request,
        scope=f"affairs.{scope}.{case.pk}",
        action=lambda: do(case),
        success=success,
        back=redirect("affairs:case", number=number),
    )


@login_required
@require_POST
def deliver(request: AuthedRequest, number: str) -> HttpResponse:
    form = DeliverForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("affairs:case", number=number)
    data = form.cleaned_data
    return _case_action(
        request,
        number,
        "deliver",
        lambda case: services.deliver(
            case=case,
            by=request.user,
            method=data["delivery_method"],
            tracking_number=data["tracking_number"],
            address=data["delivery_address"],
            expected_version=data["version"],
        ),
        _("已登记送达，办件办结。"),
    )


@login_required
@require_POST
def coordinate(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(
        request,
        number,
        "coordinate",
        lambda case: services.coordinate(case=case, by=request.user),
        _("已发起协同办理。"),
    )


@login_required
@require_POST
def home_visit(request: AuthedRequest, number: str) -> HttpResponse:
    form = HomeVisitForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("affairs:case", number=number)
    when = form.cleaned_data["when"]
    return _case_action(
        request,
        number,
        "home_visit",
        lambda case: services.book_home_visit(case=case, by=request.user, when=when),
        _("已预约上门服务。"),
    )


@login_required
@require_POST
def reveal(request: AuthedRequest, number: str) -> HttpResponse:
    """Show the applicant's full ID or phone after a stated purpose; logged."""
    case = get_scoped_or_404(Case.objects.select_related("order"), request.user, REVEAL, order__number=number)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponse(" ".join(str(e) for errors in form.errors.values() for e in errors), status=400)
    field = form.cleaned_data["field"]
    record_access(
        actor=request.user,
        action=AccessAction.REVEAL,
        subject_type="affairs.case",
        subject_id=case.order.number,
        subject_repr=f"{mask_name(case.name)} {case.order.number}",
        fields=[field],
        purpose=form.cleaned_data["purpose"],
        place_code=case.place_code,
    )
    return render(request, "accounts/partials/revealed.html", {"value": getattr(case, field)})


@login_required
@require_GET
def notice(request: AuthedRequest, number: str) -> HttpResponse:
    item = get_scoped_or_404(
        OneTimeNotice.objects.select_related("matter"), request.user, VIEW, number=number
    )
    return render(
        request,
        "affairs/notice.html",
        {"notice": item, "masked_id": mask_id_number(item.id_number), "masked_phone": mask_phone(item.phone)},
    )


@login_required
@require_GET
def notice_pdf(request: AuthedRequest, number: str) -> HttpResponse:
    from .pdf import one_time_notice_pdf

    item = get_scoped_or_404(
        OneTimeNotice.objects.select_related("matter"), request.user, VIEW, number=number
    )
    response = HttpResponse(one_time_notice_pdf(item), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{item.number}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def inquiries(request: AuthedRequest) -> HttpResponse:
    """首问登记: record an inquiry and the answer; the list shows the desk's recent ones."""
    if not may_act(request.user, Inquiry, ADD):
        raise PermissionDenied
    places = _desk_places(request.user) or list(Place.objects.filter(code__in=jurisdiction(request.user)))
    form = InquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run_once(
                key=key_from(request),
                user_id=request.user.pk,
                scope="affairs.inquiry",
                action=lambda: services.record_inquiry(
                    by=request.user,
                    place_code=places[0].code if places else "",
                    question=data["question"],
                    answer=data["answer"],
                    matter=data["matter"],
                    visitor_name=data["visitor_name"],
                    visitor_phone=data["visitor_phone"],
                    referred_to=data["referred_to"],
                ),
                encode=lambda inquiry: inquiry.pk,
                decode=lambda pk: pk,
            )
        except ValidationError as exc:
            _error_messages(request, exc, form)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("首问登记已保存。"))
            return redirect("affairs:inquiries")
    rows = restrict(Inquiry.objects.select_related("matter"), request.user, VIEW)
    page = keyset_page(rows, request, order="-id")
    return render(request, "affairs/inquiries.html", {"form": form, "page": page})


@login_required
@require_GET
def stats(request: AuthedRequest) -> HttpResponse:
    if not may_act(request.user, Case, EXPORT):
        raise PermissionDenied
    today = timezone.localdate()
    form = StatsForm(request.GET or {"year": today.year, "month": today.month})
    if not form.is_valid():
        return render(request, "affairs/stats.html", {"form": form, "report": None}, status=400)
    year, month = form.cleaned_data["year"], form.cleaned_data["month"]
    report = build_report(restrict(Case.objects.all(), request.user, EXPORT), year=year, month=month)
    title = (
        _("%(year)d年%(month)d月") % {"year": year, "month": month}
        if month
        else _("%(year)d年") % {"year": year}
    )
    if request.GET.get("format") == "xlsx":
        record_access(
            actor=request.user,
            action=AccessAction.EXPORT,
            subject_type="affairs.stats",
            subject_repr=title,
            fields=["staff_name"],
            purpose=_("受理统计导出"),
            record_count=len(report.by_staff),
        )
        return xlsx.download(
            report_xlsx(report, _("受理统计 %(period)s") % {"period": title}),
            f"affairs-stats-{year}-{month or 'all'}.xlsx",
        )
    return render(request, "affairs/stats.html", {"form": form, "report": report, "title": title})
