"""Who may see an order, and who may act on it at its current step.

Seeing: an order's kind is visible to the roles its process names (step actors and viewers),
inside each role's jurisdiction; a back-office clerk sees the orders of their own department.
Acting: the user holds a role the transition allows, inside the order's place subtree; an order
assigned to a department is acted on by that department's members, one assigned to a person by
that person (leaders and centre managers of the place may always step in).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from shequ.accounts.choices import Role
from shequ.accounts.models import RoleAssignment
from shequ.accounts.scoping import active_assignments, jurisdiction
from shequ.places.codes import subtree_prefix

from .choices import StatusGroup
from .process import Process, Transition, get_process, kinds_visible_to, processes

SUPERVISING_ROLES = frozenset({Role.LEADER, Role.CENTRE_MANAGER})


def narrow_view(assignment: RoleAssignment) -> Q:
    """The extra condition `restrict` adds per role assignment when reading orders."""
    condition = Q(kind__in=kinds_visible_to(assignment.role))
    if assignment.role == Role.BACK_OFFICE and assignment.department_id:
        condition &= Q(assignee_department_id=assignment.department_id) | Q(assignee_department__isnull=True)
    return condition


def _prefix(assignment: RoleAssignment) -> str:
    return subtree_prefix(assignment.place.code, assignment.place.kind)


def _assignment_may_act(assignment: RoleAssignment, order: Any, allowed: frozenset[str], user: Any) -> bool:
    if assignment.role not in allowed or not order.place_code.startswith(_prefix(assignment)):
        return False
    if assignment.role in SUPERVISING_ROLES:
        return True
    if order.assignee_user_id and order.assignee_user_id != user.pk:
        return False
    return not (
        order.assignee_department_id
        and assignment.department_id
        and assignment.department_id != order.assignee_department_id
    )


def may_perform(user: Any, order: Any, transition: Transition) -> bool:
    if isinstance(user, str):  # a system actor (the worker, a command)
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    allowed = get_process(order.kind).actors_of(transition) | SUPERVISING_ROLES
    return any(_assignment_may_act(a, order, allowed, user) for a in active_assignments(user))


def may_handle(user: Any, order: Any, roles: frozenset[str] | set[str]) -> bool:
    """For actions outside the transition table (comment, pause, transfer): same rule, given roles."""
    if isinstance(user, str):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    allowed = frozenset(roles) | SUPERVISING_ROLES
    return any(_assignment_may_act(a, order, allowed, user) for a in active_assignments(user))


def available_transitions(user: Any, order: Any) -> list[Transition]:
    if order.status == StatusGroup.CLOSED:
        return []
    process: Process = get_process(order.kind)
    return [t for t in process.transitions_from(order.step) if may_perform(user, order, t)]


def inbox_q(user: Any) -> Q | None:
    """Open or paused orders at a step one of the user's roles acts on, inside their scope."""
    if user.is_superuser:
        return Q(status__in=[StatusGroup.OPEN, StatusGroup.PAUSED])
    clauses: list[Q] = []
    for assignment in active_assignments(user):
        steps = [
            Q(kind=p.kind, step=s.name) for p in processes() for s in p.steps if assignment.role in s.actors
        ]
        if not steps:
            continue
        at_step = steps[0]
        for q in steps[1:]:
            at_step |= q
        clause = Q(place_code__within=_prefix(assignment)) & at_step
        if assignment.role not in SUPERVISING_ROLES:
            clause &= Q(assignee_user__isnull=True) | Q(assignee_user_id=user.pk)
            if assignment.department_id:
                clause &= Q(assignee_department__isnull=True) | Q(
                    assignee_department_id=assignment.department_id
                )
        clauses.append(clause)
    if not clauses:
        return None
    combined = clauses[0]
    for clause in clauses[1:]:
        combined |= clause
    return combined & Q(status__in=[StatusGroup.OPEN, StatusGroup.PAUSED])


def scope_prefixes(user: Any) -> list[str]:
    return jurisdiction(user)
