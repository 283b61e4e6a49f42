"""Demo data of queue numbering: 五里桥街道's centre with its service categories and 8 windows,
and a day of tickets. Idempotent: categories and windows are matched by letter and number, and
the day of tickets is made only when that day has no tickets at the centre yet."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shequ.accounts.models import RoleAssignment, User
from shequ.affairs.models import Matter
from shequ.core.demo import loaders
from shequ.core.models import DailySequence
from shequ.places.models import Place
from shequ.worktime.calendar import is_working_day
from shequ.worktime.time import office_hours

from .choices import AppointmentStatus, TicketPriority, TicketStatus
from .models import Appointment, ServiceCategory, SlotBooking, Ticket, Window
from .services import CODE_ALPHABET, DESK_ROLES

DEMO_CENTRE = "310101020"

# letter, name, the catalogue categories it groups, average minutes per resident
CATEGORIES = [
    ("A", "社保医保", ["social_security", "medical_insurance"], 10),
    ("B", "就业创业", ["employment"], 12),
    ("C", "民政救助与残疾人", ["civil_assistance", "disability", "veterans"], 15),
    ("D", "户籍居住证与住房", ["residence", "housing"], 8),
    ("E", "老龄与婚育", ["elderly", "family", "health"], 8),
    ("F", "综合咨询", [], 5),
]

# window number → the letters it serves (windows 1-6 each lead on one category and help another;
# 7 takes the consultations; 8 is the all-round window that serves everything)
WINDOWS = {
    1: "AF",
    2: "A",
    3: "BA",
    4: "C",
    5: "CE",
    6: "D",
    7: "FE",
    8: "ABCDEF",
}


def setup_centre(code: str = DEMO_CENTRE) -> dict[str, ServiceCategory]:
    """The centre's categories (with their matters) and windows; returns the categories by letter."""
    centre = Place.objects.get(code=code)
    categories: dict[str, ServiceCategory] = {}
    for order, (prefix, name, matter_categories, minutes) in enumerate(CATEGORIES):
        category, created = ServiceCategory.objects.get_or_create(
            centre=centre,
            prefix=prefix,
            defaults={"name": name, "average_minutes": minutes, "sort_order": order},
        )
        if created and matter_categories:
            category.matters.set(Matter.objects.filter(category__in=matter_categories))
        categories[prefix] = category
    for number, letters in WINDOWS.items():
        window, created = Window.objects.get_or_create(centre=centre, number=number)
        if created:
            window.categories.set([categories[letter] for letter in letters])
    return categories


# ------------------------------------------------------------------------------ a day of tickets

DAY_SEED = "shequ-queue-demo"
DAY_TICKETS = 300
# How the day's residents spread over the categories (share of tickets).
CATEGORY_WEIGHTS = {"A": 30, "B": 11, "C": 12, "D": 18, "E": 15, "F": 14}
# Mean service minutes per category in the demo day (the kiosk's estimate is a little higher).
SERVICE_MINUTES = {"A": 8.0, "B": 9.0, "C": 10.0, "D": 6.0, "E": 6.0, "F": 4.0}
PRIORITY_SHARE = 0.10
APPOINTMENT_SHARE = 0.05
NO_SHOW_SHARE = 0.04
RATED_SHARE = 0.70
RATING_WEIGHTS = {5: 68, 4: 23, 3: 6, 2: 2, 1: 1}
KIOSK_STOPS_BEFORE_CLOSE = dt.timedelta(minutes=15)
EARLY_QUEUE = dt.timedelta(minutes=15)
# The all-round window helps with the morning peak and does back-office work in the afternoon.
MORNING_ONLY_WINDOWS = frozenset({8})
SLOT = dt.timedelta(minutes=30)  # ServiceCategory.slot_minutes of the demo categories
LEFT_WAITING = 6  # tickets left uncalled when the demo day is today and the hall is quiet
DEMO_NAMES = [
    "王秀兰",
    "李建国",
    "张桂英",
    "刘志明",
    "陈美华",
    "杨国庆",
    "赵淑珍",
    "黄伟",
    "周丽娟",
    "吴建平",
]


def _arrival_weight(minute_of_day: int) -> float:
    """Residents per quarter hour, relative: a morning peak from 9 to 11 and a smaller one in
    the early afternoon."""
    hour = minute_of_day / 60
    if hour < 9:
        return 2.0
    if hour < 9.5:
        return 1.5
    if hour < 11:
        return 1.7
    if hour < 12:
        return 1.0
    if hour < 14:
        return 0.8
    if hour < 15.5:
        return 1.4
    if hour < 16.5:
        return 0.85
    return 0.45


def demo_day(now: dt.datetime | None = None) -> dt.date:
    """Today if it is a working day and the hall has opened; otherwise the last working day
    before (a demo loaded at 7 am or on a Sunday shows a whole day, not an empty one)."""
    now = timezone.localtime(now or timezone.now())
    day = now.date()
    opening = dt.datetime.combine(day, office_hours()[0][0], tzinfo=now.tzinfo)
    if is_working_day(day) and now >= opening + dt.timedelta(minutes=15):
        return day
    day -= dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


@dataclass
class _Visit:
    prefix: str
    arrival: dt.datetime
    priority: int = TicketPriority.NORMAL
    reason: str = ""
    slot: dt.time | None = None
    phone: str = ""
    status: str = TicketStatus.WAITING
    window: Window | None = None
    clerk: Any = None
    called: dt.datetime | None = None
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    recalls: int = 0
    rating: int | None = None

    def uncall(self) -> None:
        self.status, self.window, self.clerk = TicketStatus.WAITING, None, None
        self.called = self.started = self.finished = self.rating = None
        self.recalls = 0


def _desk_clerks(code: str) -> list[Any]:
    ids = (
        RoleAssignment.objects.active()
        .filter(role__in=DESK_ROLES, place__code=code)
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=list(ids), is_active=True).order_by("username"))


def _arrivals(rng: random.Random, day: dt.date, tz: dt.tzinfo) -> list[dt.datetime]:
    quarters = []
    for number, (start, end) in enumerate(office_hours()):
        cursor = dt.datetime.combine(day, start, tzinfo=tz)
        if number == 0:
            cursor -= EARLY_QUEUE  # people queue at the kiosk before the windows open
        stop = dt.datetime.combine(day, end, tzinfo=tz) - KIOSK_STOPS_BEFORE_CLOSE
        while cursor < stop:
            quarters.append(cursor)
            cursor += dt.timedelta(minutes=15)
    weights = [_arrival_weight(q.hour * 60 + q.minute) for q in quarters]
    picked = rng.choices(quarters, weights=weights, k=DAY_TICKETS)
    return sorted(q + dt.timedelta(seconds=rng.randrange(15 * 60)) for q in picked)


def _slot_starts() -> set[dt.time]:
    """Appointment slots of the demo categories: half hours inside office hours."""
    starts = set()
    for start, end in office_hours():
        cursor = dt.datetime.combine(dt.date(2000, 1, 1), start)
        while cursor + SLOT <= dt.datetime.combine(dt.date(2000, 1, 1), end):
            starts.add(cursor.time())
            cursor += SLOT
    return starts


def _plan(rng: random.Random, day: dt.date, tz: dt.tzinfo) -> list[_Visit]:
    """Who comes when, for what, with priority or an appointment."""
    letters = list(CATEGORY_WEIGHTS)
    slots = _slot_starts()
    visits = []
    for arrival in _arrivals(rng, day, tz):
        visit = _Visit(
            prefix=rng.choices(letters, weights=list(CATEGORY_WEIGHTS.values()))[0], arrival=arrival
        )
        draw = rng.random()
        # Appointments check in during the half hour before their slot starts.
        hour = arrival.replace(minute=0, second=0, microsecond=0)
        slot = next(start for start in (hour, hour + SLOT, hour + 2 * SLOT) if start >= arrival)
        if draw < APPOINTMENT_SHARE and slot.time() in slots:
            visit.priority, visit.slot = TicketPriority.APPOINTMENT, slot.time()
        elif APPOINTMENT_SHARE <= draw < APPOINTMENT_SHARE + PRIORITY_SHARE:
            visit.priority = TicketPriority.PRIORITY_GROUP
            visit.reason = "残疾人" if rng.random() < 0.2 else f"{rng.randint(70, 92)} 周岁老人"
        if rng.random() < 0.3:
            visit.phone = f"1380021{rng.randrange(10**4):04d}"  # the demo's range of numbers
        visits.append(visit)
    return visits


def _serve(rng: random.Random, visits: list[_Visit], windows: list[Window], clerks: list[Any]) -> None:
    """Run the day: each window calls its best waiting visit (appointments, then priority
    groups, then first come) as soon as its clerk is free, so a window's services never overlap."""
    if not visits:
        return
    minute = dt.timedelta(minutes=1)
    first = visits[0].arrival
    opening = dt.datetime.combine(first.date(), office_hours()[0][0], tzinfo=first.tzinfo)
    noon = dt.datetime.combine(first.date(), office_hours()[0][1], tzinfo=first.tzinfo)
    free: dict[int, dt.datetime | None] = {w.pk: opening for w in windows}
    serves = {w.pk: {c.prefix for c in w.categories.all()} for w in windows}
    clerk_of = {w.pk: clerks[i % len(clerks)] for i, w in enumerate(windows)}
    waiting = list(visits)
    while waiting:
        window = min(
            (w for w in windows if free[w.pk] is not None), key=lambda w: (free[w.pk], w.number), default=None
        )
        if window is None:
            break
        now = free[window.pk]
        assert now is not None
        mine = [v for v in waiting if v.prefix in serves[window.pk]]
        ready = [v for v in mine if v.arrival <= now]
        if not ready:
            later = min((v.arrival for v in mine), default=None)
            if later is None or (window.number in MORNING_ONLY_WINDOWS and later >= noon):
                free[window.pk] = None  # nobody left for this window today, or its shift is over
            else:
                free[window.pk] = later + minute * rng.uniform(0.3, 1.5)
            continue
        visit = min(ready, key=lambda v: (-v.priority, v.arrival))
        waiting.remove(visit)
        visit.window, visit.clerk, visit.called = window, clerk_of[window.pk], now
        if rng.random() < NO_SHOW_SHARE:
            visit.status, visit.recalls = TicketStatus.NO_SHOW, 1
            visit.called = now + minute * rng.uniform(1, 2)  # the recall moves the call time
            visit.finished = visit.called + minute * rng.uniform(1, 2)
        else:
            visit.status = TicketStatus.DONE
            visit.started = now + minute * rng.uniform(0.3, 1.5)
            length = rng.gauss(SERVICE_MINUTES[visit.prefix], SERVICE_MINUTES[visit.prefix] * 0.35)
            visit.finished = visit.started + minute * min(max(length, 3), 20)
            if rng.random() < RATED_SHARE:
                visit.rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        free[window.pk] = visit.finished + minute * rng.uniform(0.2, 1.0)


def _cut_at(visits: list[_Visit], now: dt.datetime) -> list[_Visit]:
    """The day as it stands at `now`: nobody has arrived after it, and whoever was not done by
    then is still waiting (uncalled), so the display and the console have someone to call."""
    kept = [v for v in visits if v.arrival <= now]
    for visit in kept:
        if visit.finished is None or visit.finished > now:
            visit.uncall()
    if sum(v.status == TicketStatus.WAITING for v in kept) < LEFT_WAITING:
        for visit in kept[-LEFT_WAITING:]:
            visit.uncall()
    return kept


def _appointment_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if code not in taken:
            taken.add(code)
            return code


@transaction.atomic
def load_day(code: str = DEMO_CENTRE, now: dt.datetime | None = None) -> int:
    """A realistic day of tickets at the centre (see module doc); returns the rows made."""
    now = timezone.localtime(now or timezone.now())
    categories = setup_centre(code)
    day = demo_day(now)
    if Ticket.objects.filter(centre_code=code, day=day).exists():
        return 0
    clerks = _desk_clerks(code)
    windows = list(
        Window.objects.filter(centre__code=code, is_active=True)
        .prefetch_related("categories")
        .order_by("number")
    )
    if not clerks or not windows:
        return 0
    rng = random.Random(f"{DAY_SEED}:{code}:{day.isoformat()}")
    visits = _plan(rng, day, now.tzinfo or timezone.get_current_timezone())
    _serve(rng, visits, windows, clerks)
    if day == now.date():
        visits = _cut_at(visits, now)

    taken = set(Appointment.objects.values_list("code", flat=True))
    appointments: dict[int, Appointment] = {}
    for index, visit in enumerate(visits):
        if visit.slot is not None:
            appointments[index] = Appointment(
                category=categories[visit.prefix],
                day=day,
                slot_start=visit.slot,
                code=_appointment_code(rng, taken),
                name=rng.choice(DEMO_NAMES),
                phone=f"1380021{rng.randrange(10**4):04d}",
                status=AppointmentStatus.CHECKED_IN,
            )
    Appointment.objects.bulk_create(appointments.values())
    booked_at = now - dt.timedelta(days=3)
    for appointment in appointments.values():
        appointment.created_at = booked_at
    Appointment.objects.bulk_update(appointments.values(), ["created_at"])
    for (category_pk, slot), n in _count_slots(appointments.values()).items():
        SlotBooking.objects.get_or_create(category_id=category_pk, day=day, slot_start=slot)
        SlotBooking.objects.filter(category_id=category_pk, day=day, slot_start=slot).update(
            booked=F("booked") + n
        )

    numbers: dict[str, int] = {}
    tickets = []
    for index, visit in enumerate(visits):
        numbers[visit.prefix] = numbers.get(visit.prefix, 0) + 1
        booked = appointments.get(index)
        tickets.append(
            Ticket(
                centre_code=code,
                day=day,
                category=categories[visit.prefix],
                number=f"{visit.prefix}{numbers[visit.prefix]:03d}",
                priority=visit.priority,
                priority_reason=f"预约 {booked.code}" if booked else visit.reason,
                status=visit.status,
                phone=visit.phone,
                appointment=booked,
                token=secrets.token_urlsafe(16),
                window=visit.window,
                clerk=visit.clerk,
                called_at=visit.called,
                recalls=visit.recalls,
                started_at=visit.started,
                finished_at=visit.finished,
                rating=visit.rating,
            )
        )
    Ticket.objects.bulk_create(tickets)
    for ticket, visit in zip(tickets, visits, strict=True):
        ticket.created_at = visit.arrival  # auto_now_add set it to now
    Ticket.objects.bulk_update(tickets, ["created_at"], batch_size=500)
    for prefix, last in numbers.items():
        DailySequence.objects.update_or_create(
            scope=f"ticket:{code}:{prefix}", day=day, defaults={"last": last}
        )
    return len(tickets) + len(appointments)


def _count_slots(appointments: Any) -> dict[tuple[int, dt.time], int]:
    counts: dict[tuple[int, dt.time], int] = {}
    for appointment in appointments:
        key = (appointment.category_id, appointment.slot_start)
        counts[key] = counts.get(key, 0) + 1
    return counts


def load() -> int:
    return len(setup_centre()) + load_day()


loaders.register("queueing", load)
