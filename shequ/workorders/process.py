"""Processes are data the engine reads, declared in code next to the module that owns them.

A process names its steps (each acted on by some roles, bounded by a time limit in working time)
and the transitions between them. The engine gives every process the same machinery: numbering,
deadlines and warnings, pausing, the timeline, reminders and escalation, ratings and the inbox.

    CASE = Process(
        kind="affairs.case", prefix="SW", label=_("事务受理"),
        steps=[
            Step("examining", _("审核"), actors={Role.BACK_OFFICE}, limit=matter_limit),
            Step("delivering", _("送达"), actors={Role.FRONT_DESK}, limit=WorkingDays(2)),
        ],
        transitions=[
            Transition("examining", "delivering", "approve", _("审核通过")),
            Transition("delivering", CLOSED, "deliver", _("已送达"), event=EventKind.DELIVERED),
        ],
        pause_reasons={"supplement": _("等待申请人补正材料")},
    )
    register(CASE)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role

from .choices import CANCELLED, CLOSED, TERMINAL_STEPS, EventKind

if TYPE_CHECKING:
    from .models import WorkOrder


TERMINAL_LABELS: dict[str, Promise] = {CLOSED: _("已办结"), CANCELLED: _("已撤销")}


@dataclass(frozen=True)
class WorkingDays:
    days: int

    def __str__(self) -> str:
        return f"{self.days} 个工作日"


@dataclass(frozen=True)
class WorkingHours:
    hours: Decimal | int | float

    def __str__(self) -> str:
        return f"{self.hours} 个工作小时"


Limit = Union[WorkingDays, WorkingHours]  # noqa: UP007  (used at runtime in isinstance checks)
# A step's limit: fixed, or computed per order (e.g. the matter's promised days, the event
# class's handling time), or None for a step without a deadline.
LimitSpec = Union[Limit, Callable[["WorkOrder"], Limit | None], None]  # noqa: UP007


@dataclass(frozen=True)
class Step:
    name: str
    label: str | Promise
    actors: frozenset[str] | set[str] = field(default_factory=frozenset)
    limit: LimitSpec = None
    # Warn when this share of the step's working time is left (and at least one working hour before).
    warn_fraction: float = 0.2
    # The order's clock (`started_at`) starts when it first enters this step (grid: at dispatch).
    starts_clock: bool = False

    def limit_for(self, order: WorkOrder) -> Limit | None:
        if self.limit is None or isinstance(self.limit, WorkingDays | WorkingHours):
            return self.limit
        return self.limit(order)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str  # the verb a user clicks, unique per source step, e.g. "approve"
    label: str | Promise
    event: str = EventKind.ADVANCED
    # Who may fire it; by default the actors of the source step.
    actors: frozenset[str] | set[str] | None = None
    requires_comment: bool = False
    # Rework or a return counts against the handler (返工率, 退单数).
    is_rework: bool = False
    is_return: bool = False
    # The order goes back unassigned (a department returns a dispatch it is not responsible for).
    clears_assignee: bool = False


@dataclass(frozen=True)
class Process:
    kind: str
    prefix: str  # two or three capital letters of the public number: SW20261123-0001
    label: str | Promise
    steps: list[Step]
    transitions: list[Transition]
    # Reasons that stop the clock, e.g. {"supplement": 等待申请人补正}.
    pause_reasons: dict[str, str | Promise] = field(default_factory=dict)
    # Roles that may see orders of this kind inside their jurisdiction (besides the actors).
    viewers: frozenset[str] | set[str] = field(default_factory=frozenset)
    # Whether a closed order asks for a rating (好差评).
    rated: bool = True
    # Called inside the transaction after each transition, for the owning module's own tables:
    # after_transition(order, transition, by).
    after_transition: Callable[[WorkOrder, Transition, Any], None] | None = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ImproperlyConfigured(f"{self.kind}: duplicate step names")
        if set(names) & TERMINAL_STEPS:
            raise ImproperlyConfigured(f"{self.kind}: {sorted(TERMINAL_STEPS)} are reserved step names")
        if not self.prefix.isalpha() or not self.prefix.isupper() or not 1 <= len(self.prefix) <= 4:
            raise ImproperlyConfigured(f"{self.kind}: prefix must be 1-4 capital letters")
        known = set(names) | TERMINAL_STEPS
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            if t.source not in names or t.target not in known:
                raise ImproperlyConfigured(
                    f"{self.kind}: transition {t.source}->{t.target} names an unknown step"
                )
            if (t.source, t.action) in seen:
                raise ImproperlyConfigured(f"{self.kind}: two transitions '{t.action}' from {t.source}")
            seen.add((t.source, t.action))
        roles = {r for s in self.steps for r in s.actors} | set(self.viewers)
        roles |= {r for t in self.transitions for r in (t.actors or ())}
        if unknown := roles - set(Role.values):
            raise ImproperlyConfigured(f"{self.kind}: unknown roles {sorted(unknown)}")

    @property
    def initial(self) -> Step:
        return self.steps[0]

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"{self.kind} has no step {name!r}")

    def step_label(self, name: str) -> str | Promise:
        if name in TERMINAL_LABELS:
            return TERMINAL_LABELS[name]
        return self.step(name).label

    def transitions_from(self, step: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == step]

    def transition(self, step: str, action: str) -> Transition | None:
        for t in self.transitions:
            if t.source == step and t.action == action:
                return t
        return None

    def actors_of(self, transition: Transition) -> frozenset[str]:
        return frozenset(
            transition.actors if transition.actors is not None else self.step(transition.source).actors
        )

    def all_roles(self) -> frozenset[str]:
        return frozenset({r for s in self.steps for r in s.actors} | set(self.viewers))


_PROCESSES: dict[str, Process] = {}


def register(process: Process) -> Process:
    existing = _PROCESSES.get(process.kind)
    if existing is not None and existing is not process:
        raise ImproperlyConfigured(f"process {process.kind} registered twice")
    prefixes = {p.prefix: p.kind for p in _PROCESSES.values()}
    if prefixes.get(process.prefix, process.kind) != process.kind:
        raise ImproperlyConfigured(f"prefix {process.prefix} already used by {prefixes[process.prefix]}")
    _PROCESSES[process.kind] = process
    return process


def get_process(kind: str) -> Process:
    try:
        return _PROCESSES[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no process registered for kind {kind!r}") from None


def processes() -> Iterable[Process]:
    return _PROCESSES.values()


def kinds_visible_to(role: str) -> list[str]:
    return sorted(p.kind for p in _PROCESSES.values() if role in p.all_roles())
