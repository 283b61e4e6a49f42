"""Data quality per committee, the population summary with its charts, and the masked export.

Both pages read through `restrict(..., VIEW)` and work on one place of the user's jurisdiction:
`?place=<code>` (404 outside it), by default the place the user is assigned to. A street shows
a row per committee and a street total, a district a row per street (each a link one level
down); a count links to the list behind it (`?issue=<key>`), masked, 50 a page. The charts are
SVG drawn here, server-side: the platform runs on a closed network, without a chart library.

The export (`export.xlsx`) takes the search page's chips (`?tag=`, `?age=`) and `?place=`,
writes the persons the user may EXPORT with ID and phone numbers masked, streamed through
openpyxl's write-only mode, at most `EXPORT_LIMIT` rows, and logs one access-log row."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from stdnum.cn import ric

from shequ.accounts.scoping import (
    EXPORT,
    VIEW,
    active_assignments,
    jurisdiction,
    may_act,
    restrict,
    scope_rule,
)
from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core.http import AuthedRequest
from shequ.core.masking import mask_id_number, mask_phone
from shequ.core.pagination import keyset_page_by
from shequ.core.xlsx import CONTENT_TYPE
from shequ.places.choices import PlaceKind
from shequ.places.models import ANCESTORS, Place

from . import quality as metrics
from . import services
from .choices import ComputedTag, DocumentType, Gender, PersonStatus, ResidenceType, Tag
from .forms import AGE_CHOICES, SearchForm
from .models import House, Household, Person

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
EXPORT_CHUNK = 2_000


# ------------------------------------------------------------------------------ place and scope


def _roots(user: Any, action: str) -> list[Place]:
    """The places the user's jurisdiction for `action` is made of (outermost only), from the
    role assignments already loaded; a superuser's are the top of the tree."""
    if user.is_superuser:
        return list(Place.objects.filter(parent__isnull=True).exclude(kind=PlaceKind.GRID).order_by("code"))
    allowed = set(scope_rule(Person).roles.get(action, ()))
    places = {a.place.code: a.place for a in active_assignments(user) if a.role in allowed}
    kept = [
        place
        for code, place in places.items()
        if not any(code != other and code.startswith(places[other].prefix) for other in places)
    ]
    return sorted(kept, key=lambda p: p.code)


def _inside(user: Any, code: str, action: str) -> bool:
    if user.is_superuser:
        return True
    return any(
        code.startswith(prefix) for prefix in jurisdiction(user, scope_rule(Person).roles.get(action, ()))
    )


def _chosen_place(request: AuthedRequest, action: str) -> tuple[Place | None, list[Place]]:
    """(`?place=`, else the single root or None for several; the roots). A place outside the
    user's jurisdiction, a grid or an unknown code answers 404."""
    roots = _roots(request.user, action)
    code = request.GET.get("place", "").strip()
    if code:
        place = (
            Place.objects.select_related(ANCESTORS).exclude(kind=PlaceKind.GRID).filter(code=code).first()
            if code.isdigit()
            else None
        )
        if place is None or not _inside(request.user, place.code, action):
            raise Http404
        return place, roots
    return (roots[0] if len(roots) == 1 else None), roots


def _narrow(queryset: QuerySet[Any], place: Place | None) -> QuerySet[Any]:
    return queryset.filter(place_code__within=place.prefix) if place is not None else queryset


def _scope(request: AuthedRequest, place: Place | None) -> metrics.Scope:
    user = request.user
    return metrics.Scope(
        people=_narrow(restrict(Person.objects.all(), user, VIEW), place),
        households=_narrow(restrict(Household.objects.all(), user, VIEW), place),
        houses=_narrow(restrict(House.objects.all(), user, VIEW), place),
    )


def _sub_places(place: Place | None, roots: list[Place]) -> list[Place]:
    """The rows under `place`: its committees, streets or districts (a committee is its own
    row); without a place, the roots."""
    if place is None:
        return roots
    if place.kind == PlaceKind.COMMITTEE:
        return []
    return list(place.children.exclude(kind=PlaceKind.GRID).order_by("code"))


def _crumbs(request: AuthedRequest, place: Place | None, action: str) -> list[Place]:
    """The chain down to `place` that lies inside the user's jurisdiction (links upwards)."""
    if place is None:
        return []
    return [p for p in [*place.ancestors(), place] if _inside(request.user, p.code, action)]


def _may_export(request: AuthedRequest, place: Place | None) -> bool:
    if not may_act(request.user, Person, EXPORT):
        return False
    return place is None or _inside(request.user, place.code, EXPORT)


def _place_query(place: Place | None, **extra: str) -> str:
    params = {**({"place": place.code} if place else {}), **{k: v for k, v in extra.items() if v}}
    return "?" + urlencode(params) if params else "?"


# ------------------------------------------------------------------------------ data quality


@dataclass
class QualityRow:
    place: Place | None  # None: the total of several roots, or codes under no known place
    label: str
    counts: dict[str, int]
    drill: bool = False  # the row's name links one level down
    total: bool = False
    cells: list[tuple[str, int, str]] = field(default_factory=list)  # (key, count, list url)


def _quality_rows(
    by_place: dict[str, dict[str, int]], place: Place | None, subs: list[Place]
) -> list[QualityRow]:
    """One row per sub-place, the counts summed from the committee groups under it, then the
    total (of everything in scope, so nothing is lost between the rows)."""
    keys = [issue.key for issue in metrics.ISSUES]
    rows = [
        QualityRow(sub, sub.name, dict.fromkeys(keys, 0), drill=sub.kind != PlaceKind.COMMITTEE)
        for sub in (subs or ([place] if place else []))
    ]
    stray = QualityRow(None, _("未归属居委会"), dict.fromkeys(keys, 0))
    total = QualityRow(place, place.name if place else _("合计"), dict.fromkeys(keys, 0), total=True)
    for code, counts in by_place.items():
        target = next((r for r in rows if r.place and code.startswith(r.place.prefix)), stray)
        for key, n in counts.items():
            target.counts[key] += n
            total.counts[key] += n
    if any(stray.counts.values()):
        rows.append(stray)
    if len(rows) > 1 or not rows:
        total.label = _("%(place)s 合计") % {"place": place.name} if place else _("合计")
        rows.append(total)
    return rows


def _issue_url(row: QualityRow, key: str, fallback: Place | None) -> str:
    target = row.place or fallback
    return _place_query(target, issue=key) + "#issue-list"


@dataclass
class IssueItem:
    pk: int
    name: str
    gender: str
    age: int | None
    masked_id: str
    masked_phone: str
    committee: str
    detail: str
    status: str = ""


def _id_problem(number: str, unknown_areas: Sequence[str], today: dt.date) -> str:
    """Why a resident ID number is invalid, in the words the registration form uses."""
    number = (number or "").strip().upper()
    if len(number) != 18:
        return _("应为 18 位，当前为 %(n)d 位") % {"n": len(number)}
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return _("格式不正确：前 17 位应为数字，最后一位为数字或 X")
    if number[17] != ric.calc_check_digit(number):
        return _("校验位不正确")
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # stdnum raises its own InvalidComponent
        return _("出生日期无效")
    if birth > today:
        return _("出生日期晚于今天")
    if number[:6] in unknown_areas:
        return _("前 6 位“%(area)s”不是有效的行政区划代码") % {"area": number[:6]}
    return _("号码无效")


def _person_detail(key: str, person: Any, today: dt.date, unknown_areas: Sequence[str]) -> str:
    if key == "invalid_id":
        return _id_problem(person.id_number, unknown_areas, today)
    if key == "birth_differs":
        try:
            in_id = ric.get_birth_date(person.id_number).isoformat()
        except Exception:
            in_id = "—"
        return _("登记为 %(entered)s，证件中为 %(derived)s") % {
            "entered": person.birth_date.isoformat(),
            "derived": in_id,
        }
    if key == "gender_differs":
        odd = int(person.id_number[16]) % 2 == 1 if person.id_number[16:17].isdigit() else None
        derived = _("男") if odd else _("女") if odd is not None else "—"
        return _("登记为%(entered)s，证件第 17 位表示%(derived)s") % {
            "entered": person.get_gender_display(),
            "derived": derived,
        }
    if key in ("permit_expired", "permit_expiring"):
        expiry = person.residence_permit_expiry
        return _("有效期至 %(day)s") % {"day": expiry.isoformat() if expiry else "—"}
    if key == "separated_here":
        registered = person.registered_house or person.registered_address or _("无户籍户")
        return _("实住：%(actual)s；户籍：%(registered)s") % {
            "actual": person.actual_house or "—",
            "registered": registered,
        }
    if key == "separated_away":
        return _("户籍：%(registered)s") % {"registered": person.registered_house or "—"}
    return str(person.actual_house or _("无实住地址"))


def _issue_list(
    request: AuthedRequest, scope: metrics.Scope, key: str, today: dt.date
) -> tuple[str, Any, list[Any]]:
    """(subject, keyset page, rows) of the list behind one count."""
    issue = metrics.ISSUE_KEYS[key]
    areas = (
        metrics.unknown_areas(scope.people.filter(status=PersonStatus.ACTIVE)) if key == "invalid_id" else []
    )
    rows = metrics.issue_rows(scope, key, today, areas)
    if issue.subject == "household":
        rows = rows.annotate(
            members=Count("memberships", filter=Q(memberships__left_on__isnull=True))
        ).select_related("house")
        page = keyset_page_by(rows, request, key="place_code", size=PAGE_SIZE, with_count=False)
        names = _committee_names(h.place_code for h in page.items)
        return "household", page, [(h, names.get(h.place_code, "")) for h in page.items]
    if issue.subject == "house":
        page = keyset_page_by(rows, request, key="address", size=PAGE_SIZE, with_count=False)
        names = _committee_names(h.place_code for h in page.items)
        return "house", page, [(h, names.get(h.place_code, "")) for h in page.items]
    rows = rows.annotate(
        actual_house=F("actual_m__household__house__address"),
        registered_house=F("registered_m__household__house__address"),
    )
    page = keyset_page_by(rows, request, key="name", size=PAGE_SIZE, with_count=False)
    names = _committee_names(p.place_code for p in page.items)
    items = [
        IssueItem(
            pk=p.pk,
            name=p.name,
            gender=p.get_gender_display(),
            age=p.age_on(today),
            masked_id=mask_id_number(p.id_number),
            masked_phone=mask_phone(p.phone),
            committee=names.get(p.place_code, ""),
            detail=_person_detail(key, p, today, areas),
            status=p.get_status_display() if p.status != PersonStatus.ACTIVE else "",
        )
        for p in page.items
    ]
    return "person", page, items


def _committee_names(codes: Any) -> dict[str, str]:
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return dict(Place.objects.filter(code__in=wanted).values_list("code", "name"))


@login_required
@require_GET
def quality(request: AuthedRequest) -> HttpResponse:
    """数据质量: per committee (street: each committee and the total; district: each street),
    the counts of missing, invalid and inconsistent data, each linking to its list."""
    if not may_act(request.user, Person, VIEW):
        raise PermissionDenied
    place, roots = _chosen_place(request, VIEW)
    key = request.GET.get("issue", "")
    if key and key not in metrics.ISSUE_KEYS:
        raise Http404
    today = timezone.localdate()
    scope = _scope(request, place)
    subs = _sub_places(place, roots)
    rows = _quality_rows(metrics.quality_counts(scope, today), place, subs)
    for row in rows:
        linked = row.place is not None or row.total
        row.cells = [
            (issue.key, row.counts[issue.key], _issue_url(row, issue.key, place) if linked else "")
            for issue in metrics.ISSUES
        ]
    shown = subs or ([place] if place else [])
    context: dict[str, Any] = {
        "place": place,
        "rows": rows,
        "row_kind": PlaceKind(shown[0].kind).label if shown else _("辖区"),
        "issues": metrics.ISSUES,
        "crumbs": _crumbs(request, place, VIEW),
        "today": today,
        "may_export": _may_export(request, place),
        "export_query": _place_query(place),
        "population_query": _place_query(place),
        "issue": metrics.ISSUE_KEYS.get(key),
    }
    if key:
        subject, page, items = _issue_list(request, scope, key, today)
        total = next((r for r in rows if r.total), rows[-1] if rows else None)
        context.update(
            subject=subject,
            page=page,
            items=items,
            issue_count=total.counts.get(key, 0) if total else 0,
            next_query=page.next_query,
        )
    return render(request, "people/quality.html", context)


# ------------------------------------------------------------------------------ population charts


@dataclass
class PyramidBar:
    label: str
    men: int
    women: int
    y: int
    men_x: int
    men_width: int
    women_width: int
    text_y: int
    men_text_x: int
    women_text_x: int


@dataclass
class PyramidChart:
    width: int
    height: int
    centre_left: int
    centre_right: int
    centre: int
    bar_height: int
    top: int
    bars: list[PyramidBar]
    men: int
    women: int


PYRAMID_WIDTH, PYRAMID_LABELS, PYRAMID_ROW, PYRAMID_TOP, PYRAMID_NUMBERS = 720, 72, 19, 30, 44


def pyramid_chart(pyramid: list[tuple[int, int, int]]) -> PyramidChart:
    """Oldest band on top; men to the left of the age labels, women to the right, one scale."""
    centre = PYRAMID_WIDTH // 2
    left, right = centre - PYRAMID_LABELS // 2, centre + PYRAMID_LABELS // 2
    span = left - PYRAMID_NUMBERS
    most = max([max(m, w) for _band, m, w in pyramid] + [1])
    bars = []
    for row, (band, men, women) in enumerate(reversed(pyramid)):
        men_width, women_width = round(span * men / most), round(span * women / most)
        y = PYRAMID_TOP + row * PYRAMID_ROW
        bars.append(
            PyramidBar(
                label=metrics.band_label(band),
                men=men,
                women=women,
                y=y,
                men_x=left - men_width,
                men_width=men_width,
                women_width=women_width,
                text_y=y + PYRAMID_ROW - 8,
                men_text_x=left - men_width - 4,
                women_text_x=right + women_width + 4,
            )
        )
    return PyramidChart(
        width=PYRAMID_WIDTH,
        height=PYRAMID_TOP + len(bars) * PYRAMID_ROW + 6,
        centre_left=left,
        centre_right=right,
        centre=centre,
        bar_height=PYRAMID_ROW - 4,
        top=PYRAMID_TOP,
        bars=bars,
        men=sum(m for _b, m, _w in pyramid),
        women=sum(w for _b, _m, w in pyramid),
    )


@dataclass
class TagBar:
    key: str
    label: str
    count: int
    group: str  # "maintained" or "computed"
    y: int
    width: int
    share: str  # of the persons on record, "12.3%"
    text_y: int
    number_x: int


@dataclass
class TagChart:
    width: int
    height: int
    left: int
    bar_height: int
    bars: list[TagBar]
    headings: list[tuple[str, int]]  # (text, y)


TAG_WIDTH, TAG_LABELS, TAG_ROW, TAG_NUMBERS, TAG_HEADING = 720, 112, 24, 90, 26


def tag_chart(
    maintained: list[tuple[str, str, int]], computed: list[tuple[str, str, int]], base: int
) -> TagChart:
    """Horizontal bars, maintained tags then computed ones, the count written after each bar."""
    most = max([n for _k, _l, n in [*maintained, *computed]] + [1])
    span = TAG_WIDTH - TAG_LABELS - TAG_NUMBERS
    bars: list[TagBar] = []
    headings: list[tuple[str, int]] = []
    y = 0
    for group, heading, items in (
        ("maintained", _("维护标签"), maintained),
        ("computed", _("自动计算标签"), computed),
    ):
        headings.append((heading, y + 17))
        y += TAG_HEADING
        for key, label, n in items:
            share = f"{100 * n / base:.1f}%" if base else "—"
            width = round(span * n / most)
            bars.append(
                TagBar(key, label, n, group, y + 4, width, share, y + TAG_ROW - 7, TAG_LABELS + width + 6)
            )
            y += TAG_ROW
    return TagChart(
        width=TAG_WIDTH, height=y + 4, left=TAG_LABELS, bar_height=TAG_ROW - 8, bars=bars, headings=headings
    )


@dataclass
class TypeRow:
    label: str
    counts: list[int]
    total: int


def _type_table(by_type: dict[str, dict[str, int]]) -> tuple[list[str], list[TypeRow]]:
    statuses = list(PersonStatus)
    rows = []
    for residence in ResidenceType:
        counts = [by_type.get(residence.value, {}).get(s.value, 0) for s in statuses]
        rows.append(TypeRow(str(residence.label), counts, sum(counts)))
    totals = [sum(r.counts[i] for r in rows) for i in range(len(statuses))]
    rows.append(TypeRow(_("合计"), totals, sum(totals)))
    return [str(s.label) for s in statuses], rows


@login_required
@require_GET
def population(request: AuthedRequest) -> HttpResponse:
    """人口概况: totals by residence type and status, the age pyramid and the tags of the chosen
    place, all aggregated in SQL."""
    if not may_act(request.user, Person, VIEW):
        raise PermissionDenied
    place, roots = _chosen_place(request, VIEW)
    today = timezone.localdate()
    people = _narrow(restrict(Person.objects.all(), request.user, VIEW), place)
    summary = metrics.population(people, today)
    statuses, type_rows = _type_table(summary.by_type)
    pyramid = pyramid_chart(summary.pyramid)
    return render(
        request,
        "people/population.html",
        {
            "place": place,
            "subs": _sub_places(place, roots),
            "crumbs": _crumbs(request, place, VIEW),
            "today": today,
            "summary": summary,
            "statuses": statuses,
            "type_rows": type_rows,
            "pyramid": pyramid,
            "pyramid_rows": list(reversed(pyramid.bars)),
            "tags": tag_chart(summary.maintained, summary.computed, summary.active),
            "may_export": _may_export(request, place),
            "export_query": _place_query(place),
            "quality_query": _place_query(place),
        },
    )


# ------------------------------------------------------------------------------ export


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bold(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


EXPORT_HEADERS = (
    gettext_lazy("姓名"),
    gettext_lazy("性别"),
    gettext_lazy("年龄"),
    gettext_lazy("证件类型"),
    gettext_lazy("证件号码（脱敏）"),
    gettext_lazy("联系电话（脱敏）"),
    gettext_lazy("人口类型"),
    gettext_lazy("居委会"),
    gettext_lazy("实住地址"),
    gettext_lazy("标签"),
)
EXPORT_WIDTHS = (10, 6, 6, 14, 22, 15, 10, 14, 32, 28)
EXPORT_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "phone",
    "residence_type",
    "place_code",
    "address",
    "tags",
)


def _export_rows(people: QuerySet[Person], today: dt.date, limit: int) -> Iterator[list[Any]]:
    """The sheet's rows, `EXPORT_CHUNK` persons at a time: one query streams the persons with
    their actual address, one per chunk reads their current tags."""
    rows = (
        metrics.with_households(people)
        .annotate(address=F("actual_m__household__house__address"))
        .order_by("place_code", "name", "pk")
        .values_list("pk", *EXPORT_FIELDS[:-1])[:limit]  # tags come per chunk
    )
    names = dict(Place.objects.filter(kind=PlaceKind.COMMITTEE).values_list("code", "name"))
    genders, types, documents = dict(Gender.choices), dict(ResidenceType.choices), dict(DocumentType.choices)
    tag_labels = dict(Tag.choices)
    for chunk in _chunks(rows.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        tags: dict[int, list[str]] = {}
        for person_id, tag in (
            metrics.current_tags(today)
            .filter(person_id__in=[r[0] for r in chunk])
            .order_by("tag")
            .values_list("person_id", "tag")
        ):
            tags.setdefault(person_id, []).append(str(tag_labels.get(tag, tag)))
        for pk, name, gender, birth, id_type, id_number, phone, residence, code, address in chunk:
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            band = next((str(ComputedTag(t).label) for a, t in services.AGE_BANDS if age >= a), "")
            yield [
                name,
                str(genders.get(gender, gender)),
                age,
                str(documents.get(id_type, id_type)),
                mask_id_number(id_number),
                mask_phone(phone),
                str(types.get(residence, residence)),
                names.get(code, code),
                address or "",
                "、".join([band, *tags.get(pk, [])] if band else tags.get(pk, [])),
            ]


def _filter_label(place: Place | None, tag: str, age: str) -> str:
    parts = [place.name if place else _("全部辖区")]
    if tag:
        parts.append(_("标签：%(tag)s") % {"tag": Tag(tag).label})
    if age:
        parts.append(str(dict(AGE_CHOICES)[age]))
    return " · ".join(parts)


@login_required
@require_GET
@never_cache
def export(request: AuthedRequest) -> HttpResponseBase:
    """人员名单导出 (.xlsx): the persons on record the user may export, by place, tag and age,
    ID and phone masked; logged in the access log with the filter and the number of rows."""
    if not may_act(request.user, Person, EXPORT):
        raise PermissionDenied
    place = _chosen_place(request, EXPORT)[0]
    form = SearchForm({"tag": request.GET.get("tag", ""), "age": request.GET.get("age", "")})
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
    tag, age = form.cleaned_data["tag"], form.cleaned_data["age"]
    today = timezone.localdate()
    people = _narrow(restrict(Person.objects.all(), request.user, EXPORT), place).filter(
        status=PersonStatus.ACTIVE
    )
    if tag:
        people = people.filter(pk__in=metrics.current_tags(today).filter(tag=tag).values("person_id"))
    if age:
        people = people.filter(birth_date__lte=metrics.years_ago(today, int(age)))
    label = _filter_label(place, tag, age)
    found = people.order_by()[: EXPORT_LIMIT + 1].count()
    capped, count = found > EXPORT_LIMIT, min(found, EXPORT_LIMIT)

    book = Workbook(write_only=True)  # rows go straight to a temporary file, not into memory
    sheet = book.create_sheet(_("人员名单"))
    sheet.freeze_panes = "A4"
    for column, width in enumerate(EXPORT_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.append([_bold(sheet, _("人员名单：%(filter)s") % {"filter": label})])
    if capped:
        note = _(
            "符合条件的人员超过 %(limit)s 人，仅导出前 %(limit)s 人，请按居委会、标签或年龄段缩小范围后分批导出。"
        ) % {"limit": f"{EXPORT_LIMIT:,}"}
    else:
        note = _("共 %(count)d 人") % {"count": count}
    sheet.append(
        [
            _("%(note)s。%(day)s 导出；证件号码和电话已脱敏，请妥善保管，用后删除。")
            % {"note": note, "day": today}
        ]
    )
    sheet.append([_bold(sheet, str(header)) for header in EXPORT_HEADERS])
    for row in _export_rows(people, today, count):
        sheet.append(row)
    record_access(
        actor=request.user,
        action=AccessAction.EXPORT,
        subject_type="people.person",
        subject_repr=_("人员名单：%(filter)s，%(count)d 人") % {"filter": label, "count": count}
        + (_("（超过上限，已截断）") if capped else ""),
        fields=list(EXPORT_FIELDS),
        purpose=_("人员名单导出（证件号码和电话已脱敏）"),
        record_count=count,
        place_code=place.code if place else "",
    )
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
    book.save(out)
    out.seek(0)
    filename = f"people-{place.code if place else 'all'}-{today:%Y%m%d}.xlsx"
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=CONTENT_TYPE)
    return response
