"""Demo data of grid management in 五里桥街道: one responsibility grid per committee with its
inspector, about 300 coded city components, and about 300 reports of the last 60 days in every
stage of the closed loop (some returned, reworked, escalated, handled late, merged, cancelled,
and residents' "is it fixed?" answers, one "no" reopening its case).

Reports are not written as rows: each is played through shequ.grid.services in time order,
with the clock moved (time_machine) to the moment each step happens and the deadline sweep run
as the worker would, so timelines, deadlines, numbers and indicators are exactly what the real
flow produces. Deterministic for a given day (seeded) and idempotent: the reports are made only
when the demo Open311 key has none, components and users only when missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw
from shapely.geometry import Point, shape

from shequ.accounts.choices import Role
from shequ.accounts.models import Department, RoleAssignment, User
from shequ.core.demo import loaders
from shequ.places.models import Place
from shequ.workorders import services as engine
from shequ.worktime.calendar import is_working_day

from . import services
from .choices import ClassKind, ComponentState, DataSource, ReporterKind
from .models import ApiKey, Component, GridReport, ManagementClass, ResponsibilityGrid

SEED = 20261125
STREET = "310101020"
DISTRICT = STREET[:6]
COMMITTEES = [f"{STREET}{n:03d}" for n in range(1, 7)]
DAYS = 60
# The worker sweeps every few seconds; marking overdue cases within a few hours is close enough
# for the demo and keeps loading quick.
SWEEP_EVERY = dt.timedelta(hours=4)
# The demo Open311 client (a city's 12345 app). Its key is public like the demo passwords.
DEMO_API_KEY = "wuliqiao-demo-open311-key"
# Stages an open case is left at, and how many of each (the rest go round the whole loop).
OPEN_TARGETS = {
    "filing": 6,
    "dispatching": 5,
    "coordinating": 3,
    "handling": 12,
    "feedback": 4,
    "verifying": 5,
    "closing": 4,
}
CLOSED_PLANS, VOID_PLANS, MERGED_PLANS = 185, 16, 12
STAGE_AFTER = {
    "report": "filing",
    "file": "dispatching",
    "escalate": "coordinating",
    "dispatch": "handling",
    "return": "dispatching",
    "finish": "feedback",
    "send_back": "handling",
    "forward": "verifying",
    "fail": "handling",
    "pass": "closing",
    "close": "closed",
}

# ---------------------------------------------------------------------------------- data

HANDLERS = {
    "sanitation": "handler",
    "municipal": "handler_municipal",
    "law-enforcement": "handler_law",
    "greening": "handler_greening",
    "traffic": "handler_traffic",
}
# A dispatch the department returns went here first (a dispute over who is responsible).
WRONG_DEPARTMENT = {
    "sanitation": "law-enforcement",
    "law-enforcement": "sanitation",
    "municipal": "traffic",
    "traffic": "municipal",
    "greening": "sanitation",
}
ROADS = ["瞿溪路", "蒙自路", "丽园路", "制造局路", "鲁班路", "中山南一路", "局门路", "南塘浜路", "斜土路"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = ["秀英", "建华", "桂兰", "志强", "丽娟", "国庆", "美玲", "海涛", "淑珍", "文斌", "晓东", "春燕"]
COMPONENTS = [  # class code, how many (about 300 in the street)
    ("01001", 20), ("01002", 40), ("01003", 40), ("01004", 25), ("01005", 15), ("01007", 15),
    ("01013", 15), ("01037", 40), ("01042", 4), ("02004", 5), ("02010", 10), ("02012", 10),
    ("02025", 5), ("03001", 3), ("03005", 30), ("04002", 30), ("04011", 10),
]  # fmt: skip
OWNERS = {
    "01001": "上海城投水务（集团）有限公司供水分公司",
    "01002": "上海城投污水治理有限公司",
    "01003": "黄浦区排水管理所",
    "01004": "黄浦区排水管理所",
    "01005": "国网上海市电力公司市区供电公司",
    "01007": "中国电信股份有限公司上海分公司",
    "01013": "黄浦区消防救援支队",
    "01037": "黄浦区路灯管理所",
    "01042": "中国邮政集团有限公司上海市分公司",
    "03001": "黄浦区环境卫生管理所",
    "03005": "黄浦区环境卫生管理所",
    "04002": "黄浦区绿化管理所",
    "04011": "黄浦区绿化管理所",
}
# Item classes reported here, how often, what people write and what the department answers.
ITEMS: list[tuple[str, int, list[str], list[str]]] = [
    ("06010", 12, ["{road}{no}号门口有一堆暴露垃圾", "{road}{no}号弄口垃圾散落"], ["已清运，现场已清扫"]),
    ("06042", 8, ["{road}{no}号垃圾箱房满溢，气味大", "{road}{no}号旁垃圾桶已满"], ["已增加清运频次，现场已清理"]),
    ("06036", 8, ["{road}{no}号楼道口乱堆杂物", "{road}{no}号人行道堆放旧家具"], ["已督促清理，现场恢复"]),
    ("06012", 5, ["{road}{no}号路段路面不洁，有油污", "{road}{no}号门前落叶未扫"], ["已安排保洁冲洗"]),
    ("06035", 4, ["{road}{no}号弄口丢弃旧沙发", "{road}{no}号路边废弃床垫"], ["已联系大件垃圾清运"]),
    ("06007", 4, ["{road}{no}号沿街晾晒衣物", "{road}{no}号临街窗外晾挂"], ["已劝导整改"]),
    ("09006", 8, ["{road}{no}号附近水果摊占道经营", "{road}{no}号人行道上有摊贩"], ["执法队员已劝离，现场恢复"]),
    ("09005", 6, ["{road}{no}号饭店店外设摊", "{road}{no}号店铺货物摆到门外"], ["已责令店家收回，现场恢复"]),
    ("07001", 5, ["{road}{no}号墙面张贴小广告", "{road}{no}号电线杆上贴满小广告"], ["已清除小广告"]),
    ("09009", 6, ["{road}{no}号机动车停在人行道上", "{road}{no}号车辆乱停挡住出入口"], ["已贴单告知，车辆已移走"]),
    ("09010", 6, ["{road}{no}号非机动车乱停放", "{road}{no}号电瓶车堵住盲道"], ["已整理归位"]),
    ("09012", 3, ["{road}{no}号消防通道被车辆占用"], ["已联系车主挪车，通道畅通"]),
    ("06028", 3, ["{road}{no}号店铺音响声音过大", "{road}{no}号夜间噪声扰民"], ["已约谈店主，音量已降低"]),
    ("08001", 2, ["{road}{no}号工地夜间施工扰民"], ["已责令停止夜间施工"]),
    ("01002", 5, ["{road}{no}号污水井盖破损", "{road}{no}号污水井盖松动有响声"], ["已更换井盖"]),
    ("01003", 4, ["{road}{no}号雨水井盖缺失，已用锥桶围挡", "{road}{no}号雨水井盖下沉"], ["已补装井盖"]),
    ("01004", 4, ["{road}{no}号雨水箅子堵塞，路面积水"], ["已清掏疏通"]),
    ("01037", 6, ["{road}{no}号路灯不亮", "{road}{no}号路灯白天常亮"], ["已维修，路灯恢复正常"]),
    ("02010", 2, ["{road}{no}号交通标志牌歪斜"], ["已扶正加固"]),
    ("02012", 2, ["{road}{no}号路名牌字迹脱落"], ["已更换路名牌"]),
    ("02025", 2, ["{road}{no}号非机动车停放点护栏损坏"], ["已修复护栏"]),
    ("04002", 4, ["{road}{no}号行道树枝条过低影响通行", "{road}{no}号行道树倾斜"], ["已修剪，枝条已清运"]),
    ("04011", 2, ["{road}{no}号树池盖板缺失"], ["已补装树池盖板"]),
    ("03005", 3, ["{road}{no}号果壳箱破损"], ["已更换果壳箱"]),
]  # fmt: skip
RETURN_REASON = "经现场核实不属于本部门职责，请重新派遣"
ESCALATE_REASON = "权属不清，相关部门均称不属本单位职责，提请协调认定"


# ---------------------------------------------------------------------------------- people and places


def _inspectors() -> dict[str, User]:
    found = RoleAssignment.objects.filter(
        role=Role.GRID_INSPECTOR, place__code__in=COMMITTEES, revoked_at=None
    ).select_related("user", "place")
    return {a.place.code: a.user for a in found.order_by("user__username")}


def _responsibility_grids(inspectors: dict[str, User]) -> int:
    street = Place.objects.get(code=STREET)
    made = 0
    for number, code in enumerate(COMMITTEES, start=1):
        committee = Place.objects.get(code=code)
        grid, created = ResponsibilityGrid.objects.get_or_create(
            place=street,
            code=f"ZR{number:02d}",
            defaults={"name": f"{committee.name.removesuffix('居委会')}责任网格"},
        )
        if created:
            grid.unit_grids.set(Place.objects.filter(parent=committee, kind="grid"))
            if code in inspectors:
                grid.inspectors.add(inspectors[code])
            made += 1
    return made


def _grids() -> dict[str, Any]:
    rows = Place.objects.filter(code__startswith=STREET, kind="grid", geometry__isnull=False)
    return {p.code: shape(p.geometry) for p in rows.order_by("code")}


def _point_in(polygon: Any, rng: random.Random) -> tuple[float, float]:
    west, south, east, north = polygon.bounds
    inner = polygon.buffer(-0.0002)  # keep clear of the shared edges
    while True:
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        if inner.contains(Point(x, y)):
            return round(x, 6), round(y, 6)


def _components(grids: dict[str, Any], rng: random.Random) -> int:
    classes = {c.code: c for c in ManagementClass.objects.filter(kind=ClassKind.COMPONENT)}
    departments = {d.code: d.name for d in Department.objects.filter(place__code=STREET)}
    codes = list(grids)
    rows = []
    for class_code, count in COMPONENTS:
        cls = classes[class_code]
        for serial in range(1, count + 1):
            grid = rng.choice(codes)
            lon, lat = _point_in(grids[grid], rng)
            road = rng.choice(ROADS)
            owner = OWNERS.get(class_code, departments.get(cls.department_code, cls.department_name))
            draw = rng.random()
            state = ComponentState.INTACT if draw < 0.9 else ComponentState.DAMAGED
            rows.append(
                Component(
                    identifier=f"{DISTRICT}{class_code}{serial:06d}",
                    management_class=cls,
                    name=f"{road}{cls.name}"[:30],
                    competent_name=departments.get(cls.department_code, cls.department_name),
                    owner_name=owner,
                    maintainer_name=owner,
                    place_code=grid,
                    state=state,
                    initial_date=dt.date(rng.randint(2008, 2024), rng.randint(1, 12), rng.randint(1, 28)),
                    data_source=DataSource.SURVEYED if rng.random() < 0.8 else DataSource.BASE_GEODATA,
                    note="井盖松动，已登记待修" if state == ComponentState.DAMAGED else "",
                    longitude=lon,
                    latitude=lat,
                )
            )
    have = set(
        Component.objects.filter(identifier__in=[r.identifier for r in rows]).values_list(
            "identifier", flat=True
        )
    )
    missing = [r for r in rows if r.identifier not in have]
    Component.objects.bulk_create(missing, batch_size=500)
    return len(missing)


def _api_key() -> ApiKey:
    key, _ = ApiKey.objects.get_or_create(
        digest=hashlib.sha256(DEMO_API_KEY.encode()).hexdigest(),
        defaults={
            "name": "上海12345市民服务热线App",
            "contact": "市民热线技术组",
            "prefix": DEMO_API_KEY[:8],
            "place": Place.objects.get(code=STREET),
        },
    )
    return key


# ---------------------------------------------------------------------------------- plans


def photo(rng: random.Random, name: str) -> SimpleUploadedFile:
    """A small, plausible-looking site photo: ground, a wall and a blotch where the problem is."""
    image = Image.new("RGB", (320, 240), tuple(rng.randint(90, 160) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 320, rng.randint(60, 120)), fill=tuple(rng.randint(150, 230) for _ in range(3)))
    for _ in range(rng.randint(2, 5)):
        x, y = rng.randint(20, 280), rng.randint(110, 220)
        draw.ellipse(
            (x, y, x + rng.randint(15, 60), y + rng.randint(10, 30)),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def at_work(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """`moment`, or the next working morning if it falls outside office time."""
    local = timezone.localtime(moment)
    opening = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if is_working_day(local.date()) and opening <= local < local.replace(hour=17, minute=15):
        return local
    day = local.date() if local < opening else local.date() + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return opening.replace(year=day.year, month=day.month, day=day.day) + dt.timedelta(
        minutes=rng.randint(0, 75)
    )


@dataclass
class Plan:
    n: int
    grid: str
    item: tuple[str, list[str], list[str]]  # class code, descriptions, handling results
    kind: str
    start: dt.datetime
    target: str = "closed"  # the stage the case is left at
    returned: bool = False
    escalated: bool = False
    late: bool = False
    rework: bool = False
    send_back: bool = False
    ending: str = ""  # "void" or "merge"
    merge_into: int | None = None
    answer: str = ""  # the resident's answer after closing
    offset: tuple[float, float] | None = None  # a duplicate's point: near its original
    steps: list[tuple[dt.datetime, str]] = field(default_factory=list)


def _limit_hours(code: str, classes: dict[str, ManagementClass]) -> float:
    cls = classes[code]
    if not cls.limit:
        return 24 * 3
    return float(cls.limit) if cls.limit_unit == "hours" else cls.limit * 24.0


def _schedule(
    plan: Plan, classes: dict[str, ManagementClass], rng: random.Random
) -> list[tuple[dt.datetime, str]]:
    """The plan's steps with their moments, cut at the stage it is left at."""
    t = plan.start
    steps: list[tuple[dt.datetime, str]] = [(t, "report")]

    def then(action: str, low: float, high: float, work: bool = True) -> None:
        nonlocal t
        t = t + dt.timedelta(minutes=rng.uniform(low, high))
        t = at_work(t, rng) if work else t
        steps.append((t, action))

    then("file", 8, 50)
    if plan.ending:  # not filed: cancelled (注销) or merged into its original, at filing
        steps[-1] = (t, plan.ending)
        return steps
    then("escalate" if plan.escalated else "dispatch", 5, 40)
    if plan.escalated:
        then("dispatch", 120, 600)
    if plan.returned:
        then("return", 30, 240)
        then("dispatch", 10, 60)
    limit = _limit_hours(plan.item[0], classes) * 60
    then("finish", limit * 1.6, limit * 3) if plan.late else then("finish", limit * 0.15, limit * 0.8)
    if plan.send_back:
        then("send_back", 15, 60)
        then("finish", 60, 300)
    then("forward", 10, 60)
    if plan.rework:
        then("fail", 60, 300)
        then("finish", 120, 900)
        then("forward", 10, 60)
    then("pass", 60, 300)
    then("close", 10, 60)
    if plan.answer:
        then("answer", 600, 4000, work=False)
        if plan.answer == "no":  # reopened at verification: the inspector finds it, rework
            for action, low, high in [("fail", 60, 300), ("finish", 120, 900), ("forward", 10, 60)]:
                then(action, low, high)
            for action, low, high in [("pass", 60, 300), ("close", 10, 60)]:
                then(action, low, high)
    if plan.target != "closed":
        stage, cut = "filing", steps
        for index, (_, action) in enumerate(steps):
            stage = STAGE_AFTER.get(action, stage)
            if stage == plan.target:
                cut = steps[: index + 1]
                break
        steps = cut
    return steps


def _plans(
    grids: list[str], classes: dict[str, ManagementClass], now: dt.datetime, rng: random.Random
) -> list[Plan]:
    plans: list[Plan] = []
    weights = [w for _, w, _, _ in ITEMS]

    def new(target: str, start: dt.datetime) -> Plan:
        code, _, descriptions, results = rng.choices(ITEMS, weights=weights)[0]
        draw = rng.random()
        kind = (
            ReporterKind.INSPECTOR
            if draw < 0.55
            else ReporterKind.RESIDENT
            if draw < 0.75
            else ReporterKind.STAFF
            if draw < 0.9
            else ReporterKind.OPEN311
        )
        return Plan(len(plans), rng.choice(grids), (code, descriptions, results), kind, start, target)

    earliest = now - dt.timedelta(days=DAYS)
    for _ in range(CLOSED_PLANS):
        plan = new("closed", earliest + dt.timedelta(minutes=rng.uniform(0, (DAYS - 6) * 1440)))
        plan.returned, plan.escalated = rng.random() < 0.1, rng.random() < 0.04
        plan.late, plan.rework, plan.send_back = rng.random() < 0.12, rng.random() < 0.08, rng.random() < 0.03
        if plan.kind in (ReporterKind.RESIDENT, ReporterKind.OPEN311):
            plan.answer = "no" if rng.random() < 0.1 else "yes" if rng.random() < 0.8 else ""
        plans.append(plan)
    for _ in range(VOID_PLANS):
        plan = new("closed", earliest + dt.timedelta(minutes=rng.uniform(0, (DAYS - 1) * 1440)))
        plan.ending = "void"
        plans.append(plan)
    for target, count in OPEN_TARGETS.items():
        for i in range(count):
            back = {"handling": 0.1 if i < 3 else 1.5 + i * 0.8, "coordinating": 0.6}.get(target, 0.2)
            plan = new(target, now - dt.timedelta(days=back + rng.uniform(0, 1)))
            plan.returned = target == "dispatching" and i == 0
            plan.escalated = target == "coordinating"
            plan.rework = target in ("verifying", "closing") and i == 0
            plans.append(plan)
    for plan in plans:
        plan.steps = _schedule(plan, classes, rng)
        while plan.steps[-1][0] > now - dt.timedelta(minutes=5):  # keep every step in the past
            plan.start -= dt.timedelta(days=1)
            plan.steps = _schedule(plan, classes, rng)
    for index in rng.sample(range(CLOSED_PLANS), MERGED_PLANS):  # reported again soon after
        original = plans[index]
        duplicate = new("closed", original.start + dt.timedelta(minutes=rng.uniform(20, 90)))
        duplicate.grid, duplicate.item, duplicate.kind = original.grid, original.item, ReporterKind.RESIDENT
        duplicate.ending, duplicate.merge_into = "merge", original.n
        duplicate.offset = (rng.uniform(-0.0002, 0.0002), rng.uniform(-0.0002, 0.0002))
        duplicate.steps = _schedule(duplicate, classes, rng)
        plans.append(duplicate)
    return plans


# ---------------------------------------------------------------------------------- playing the plans


@dataclass
class _Cast:
    """Who does what, and what the plans refer to."""

    users: dict[str, User]
    inspectors: dict[str, User]
    departments: dict[str, Department]
    key: ApiKey
    grids: dict[str, Any]
    components: dict[str, list[Component]]
    reports: dict[int, int] = field(default_factory=dict)  # plan → report pk
    dispatched: dict[int, int] = field(default_factory=dict)  # plan → dispatches so far


def _report_input(plan: Plan, cast: _Cast, rng: random.Random) -> tuple[Any, services.ReportInput]:
    code, descriptions, _ = plan.item
    text = rng.choice(descriptions).format(road=rng.choice(ROADS), no=rng.randint(1, 1200))
    component = ""
    if plan.offset is not None and plan.merge_into in cast.reports:
        original = GridReport.objects.get(pk=cast.reports[plan.merge_into])
        lon, lat = original.longitude + plan.offset[0] / 4, original.latitude + plan.offset[1] / 4
    elif cast.components.get(code):
        chosen = rng.choice(cast.components[code])
        component, lon, lat = chosen.identifier, chosen.longitude, chosen.latitude
    else:
        lon, lat = _point_in(cast.grids[plan.grid], rng)
    name, phone = rng.choice(SURNAMES) + rng.choice(GIVEN), f"139{rng.randint(10000000, 99999999)}"
    data = services.ReportInput(
        class_code=code, reporter_kind=plan.kind, longitude=lon, latitude=lat, description=text,
        component=component if plan.kind == ReporterKind.INSPECTOR else "",
    )  # fmt: skip
    by: Any
    if plan.kind == ReporterKind.INSPECTOR:
        by = cast.inspectors[plan.grid[:12]]
        data.photos = [photo(rng, f"site-{plan.n}.jpg")]
    elif plan.kind == ReporterKind.STAFF:
        by = cast.users["supervisor"]
        data.description = f"市民来电反映：{text}"
        data.reporter_name, data.reporter_phone = name, phone
    elif plan.kind == ReporterKind.OPEN311:
        by = f"open311:{cast.key.name}"  # as the Open311 view names it
        data.reporter_name, data.reporter_phone = name, phone
    else:
        resident = plan.grid.startswith(COMMITTEES[0]) and rng.random() < 0.5
        by = cast.users["resident"] if resident else AnonymousUser()
        data.reporter_name, data.reporter_phone = (by.full_name, by.phone) if resident else (name, phone)
        data.photos = [photo(rng, f"report-{plan.n}.jpg")] if rng.random() < 0.4 else []
    return by, data


def _step(plan: Plan, action: str, moment: dt.datetime, cast: _Cast) -> None:
    rng = random.Random(SEED * 10_000 + plan.n * 100 + len(action) + moment.minute)
    users = cast.users
    if action == "report":
        by, data = _report_input(plan, cast, rng)
        key = cast.key if plan.kind == ReporterKind.OPEN311 else None
        cast.reports[plan.n] = services.submit_report(by=by, data=data, api_key=key, now=moment).pk
        return
    report = GridReport.objects.select_related("order", "management_class").get(pk=cast.reports[plan.n])
    inspector = cast.inspectors[report.place_code[:12]]
    department = report.order.assignee_department
    handler = users[HANDLERS[department.code]] if department else None
    if action == "file":
        services.file_report(report=report, by=users["supervisor"])
    elif action == "void":
        services.void_report(report=report, by=users["supervisor"], reason="经监督员核实，现场未发现所述问题")
    elif action == "merge":
        assert plan.merge_into is not None
        target = GridReport.objects.select_related("order").get(pk=cast.reports[plan.merge_into])
        if target.order.is_closed:  # already done by the time the duplicate came in
            services.void_report(report=report, by=users["supervisor"], reason="问题已处置完毕，不予立案")
        else:
            services.merge_report(report=report, into=target, by=users["supervisor"])
    elif action == "escalate":
        services.act(report=report, by=users["dispatcher"], action="escalate", comment=ESCALATE_REASON)
    elif action == "dispatch":
        right = services.suggested_department(report)
        assert right is not None, report.management_class
        first = cast.dispatched.get(plan.n, 0) == 0
        chosen = cast.departments[WRONG_DEPARTMENT[right.code]] if plan.returned and first else right
        by = users["leader"] if report.order.step == "coordinating" else users["dispatcher"]
        services.dispatch(report=report, by=by, department=chosen, now=moment)
        cast.dispatched[plan.n] = cast.dispatched.get(plan.n, 0) + 1
    elif action == "return":
        services.return_dispatch(report=report, by=handler, reason=RETURN_REASON)
    elif action == "finish":
        result = rng.choice(plan.item[2])
        services.finish_handling(
            report=report, by=handler, result=result, photos=[photo(rng, f"after-{plan.n}.jpg")]
        )
    elif action == "send_back":
        services.act(
            report=report, by=users["dispatcher"], action="send_back", comment="处置后照片未反映现场，请补充"
        )
    elif action == "fail":
        services.fail_verification(report=report, by=inspector, reason="现场核查问题仍然存在，请返工")
    elif action in ("forward", "pass", "close"):
        by = {"forward": users["dispatcher"], "pass": inspector, "close": users["supervisor"]}[action]
        services.act(report=report, by=by, action=action)
    elif action == "answer":
        comment = "还是老样子，没有解决" if plan.answer == "no" else "已经处理好了，谢谢"
        services.answer_fixed(report=report, answer=plan.answer, comment=comment, now=moment)


def _play(plans: list[Plan], cast: _Cast) -> int:
    import time_machine  # a dev dependency that `make run` installs; only the demo needs it

    events = sorted((t, p.n, i, action) for p in plans for i, (t, action) in enumerate(p.steps))
    by_number = {p.n: p for p in plans}
    last_sweep = events[0][0]
    with time_machine.travel(events[0][0], tick=False) as traveller:
        for moment, n, _, action in events:
            traveller.move_to(moment)
            if moment - last_sweep >= SWEEP_EVERY:  # the worker's deadline sweep
                engine.sweep()
                last_sweep = moment
            _step(by_number[n], action, moment, cast)
    engine.sweep()
    return len(cast.reports)


@transaction.atomic
def load() -> int:
    """Users, responsibility grids, components and reports that are missing; how many were made."""
    if not ManagementClass.objects.exists():  # a flushed test database (live-server tests)
        from .classes import load as load_classes

        load_classes()
    rng = random.Random(SEED)
    made = 0
    inspectors = _inspectors()
    made += _responsibility_grids(inspectors)
    grids = _grids()
    made += _components(grids, rng)
    key = _api_key()
    if GridReport.objects.filter(api_key=key).exists():
        return made
    classes = {c.code: c for c in ManagementClass.objects.filter(kind=ClassKind.ITEM)}
    components: dict[str, list[Component]] = {}
    for component in Component.objects.filter(place_code__startswith=STREET).order_by("identifier"):
        components.setdefault(component.identifier[6:11], []).append(component)
    names = ["supervisor", "dispatcher", "leader", "resident", *HANDLERS.values()]
    cast = _Cast(
        users={u.username: u for u in User.objects.filter(username__in=names)},
        inspectors=inspectors,
        departments={d.code: d for d in Department.objects.filter(place__code=STREET)},
        key=key,
        grids=grids,
        components=components,
    )
    plans = _plans(list(grids), classes, timezone.now(), rng)
    return made + _play(plans, cast)


loaders.register("grid cases", load)
