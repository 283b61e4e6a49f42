"""Demo data of the acceptance centre: the catalogue, and a few dozen cases in every state
(accepted, warned, overdue, waiting for a supplement, in coordination, awaiting delivery,
delivered, finished on the spot, rated well and badly), notices and first-inquiry records.
Deterministic and idempotent: the demo applicants' ID numbers mark what was already made."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from django.utils import timezone

from shequ.accounts.models import User
from shequ.core.demo import loaders
from shequ.core.idnumbers import make_resident_id
from shequ.workorders import services as engine
from shequ.workorders.choices import RatingLevel

from . import services
from .models import Case, Inquiry, Matter

CATALOGUE = Path(__file__).parent / "data" / "matters.json"

SEED = 20261123
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = [
    "秀英",
    "建华",
    "桂兰",
    "志强",
    "丽娟",
    "国庆",
    "美玲",
    "海涛",
    "淑珍",
    "文斌",
    "玉梅",
    "晓东",
    "凤英",
    "伟民",
    "春燕",
]
COMMITTEES = [f"310101020{n:03d}" for n in range(1, 7)]


def _applicant(rng: random.Random, n: int) -> services.ApplicantData:
    birth = dt.date(rng.randint(1935, 2000), rng.randint(1, 12), rng.randint(1, 28))
    return services.ApplicantData(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        id_number=make_resident_id("310101", birth, 100 + n),
        phone=f"139{rng.randint(10000000, 99999999)}",
        address=f"上海市黄浦区瞿溪路{rng.randint(1, 999)}弄{rng.randint(1, 30)}号",
    )


def _all_materials(matter: Matter) -> list[int]:
    return list(matter.materials.values_list("pk", flat=True))


def load_demo_cases() -> int:
    from .catalogue import load_catalogue

    load_catalogue(json.loads(CATALOGUE.read_text(encoding="utf-8")), by="load_demo")
    rng = random.Random(SEED)
    first = _applicant(random.Random(SEED), 0)
    if Case.objects.filter(id_number=first.id_number).exists():
        return 0
    desk = User.objects.get(username="frontdesk")
    back = User.objects.get(username="backoffice")
    manager = User.objects.get(username="manager")
    now = timezone.now()
    matters = list(Matter.objects.filter(is_active=True, department_code="civil-affairs").order_by("code"))
    spot = list(
        Matter.objects.filter(is_active=True, on_the_spot=True, department_code="civil-affairs").order_by(
            "code"
        )
    )
    coop = [m for m in matters if m.cooperating_departments]
    made = 0

    def accept(n: int, matter: Matter, *, days_ago: float = 0, on_spot: bool = False) -> Case:
        nonlocal made
        result = services.accept(
            by=desk,
            matter=matter,
            applicant=_applicant(rng, n) if n else first,
            received=_all_materials(matter),
            place_code=COMMITTEES[n % len(COMMITTEES)],
            finish_on_spot=on_spot,
            now=now - dt.timedelta(days=days_ago),
        )
        made += 1
        assert result.case is not None
        return result.case

    n = 0
    for i in range(10):  # waiting in the back office, some of them long ago (warned, overdue)
        accept(n, matters[i % len(matters)], days_ago=[0, 0, 1, 2, 4, 6, 9, 12, 15, 20][i])
        n += 1
    for i in range(12):  # finished on the spot, most rated
        case = accept(n, spot[i % len(spot)], on_spot=True)
        n += 1
        if i < 10:
            engine.rate(order=case.order, level=[5, 5, 5, 4, 5, 4, 5, 3, 5, 5][i], by=desk)
    for i in range(6):  # decided, waiting for delivery
        case = accept(n, matters[(i + 3) % len(matters)], days_ago=3)
        n += 1
        engine.perform(
            order=case.order,
            by=back,
            action="approve" if i % 3 else "reject",
            comment="" if i % 3 else "不符合申请条件",
        )
    for i in range(8):  # delivered and rated, one badly
        case = accept(n, matters[(i + 5) % len(matters)], days_ago=6)
        n += 1
        engine.perform(order=case.order, by=back, action="approve")
        services.deliver(case=case, by=desk)
        level = RatingLevel.DISSATISFIED if i == 0 else [5, 4, 5, 5, 4, 5, 5, 5][i]
        engine.rate(order=case.order, level=level, by=desk, comment="等候时间较长" if i == 0 else "")
    for i in range(3):  # waiting for the applicant's supplement
        case = accept(n, matters[(i + 7) % len(matters)], days_ago=1)
        n += 1
        engine.pause(order=case.order, by=back, reason="supplement", comment="请补充户口簿复印件")
    for matter in coop[:2]:  # in coordination between departments
        case = accept(n, matter, days_ago=1)
        n += 1
        services.coordinate(case=case, by=back)
    desk_b = User.objects.get(username="frontdesk_b")
    for i in range(2):  # the neighbouring street's own cases (打浦桥街道)
        services.accept(
            by=desk_b,
            matter=matters[i],
            applicant=_applicant(rng, 800 + i),
            received=_all_materials(matters[i]),
            place_code=f"310101021{i + 1:03d}",
        )
        made += 1
    for i in range(4):  # one-time notices: something mandatory missing
        matter = matters[(i + 2) % len(matters)]
        services.accept(
            by=desk, matter=matter, applicant=_applicant(rng, 900 + i), received=[], place_code=COMMITTEES[i]
        )
    questions = [
        ("老年综合津贴怎么申请？", "年满65周岁的本市户籍老人，持身份证和社保卡到中心窗口申请，当场受理。"),
        ("居住证到期了怎么办？", "到期前30天内持居住证和居住登记凭证办理签注。"),
        ("低保需要什么材料？", "已出具一次性告知书，列明全部材料。"),
        ("残疾人证丢了能补办吗？", "可以，引导至残联窗口办理换领补领。"),
    ]
    for i, (question, answer) in enumerate(questions):
        if not Inquiry.objects.filter(question=question).exists():
            services.record_inquiry(
                by=manager if i % 2 else desk, place_code="310101020", question=question, answer=answer
            )
    engine.sweep()
    return made


loaders.register("affairs cases", load_demo_cases)
