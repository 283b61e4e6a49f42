"""`restrict(queryset, user, action)`: the single door to scoped data (DESIGN §4.6).

Each scoped model registers a `ScopeRule` once, next to the model: which field holds its place
code, and which roles may take each action. A user may act on a row when one of their active
role assignments has a role allowed for the action and the row's place code lies in the
assignment's subtree. Everything else is invisible: detail views use `get_scoped_or_404`, which
answers 404 both for "not in your scope" and for "does not exist".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from shequ.places.codes import subtree_prefix

from .choices import Role

if TYPE_CHECKING:
    from .models import RoleAssignment, User

M = TypeVar("M", bound=models.Model)

VIEW = "view"
ADD = "add"
CHANGE = "change"
DELETE = "delete"
REVEAL = "reveal"  # see unmasked ID and phone numbers (always logged)
EXPORT = "export"  # download personal data in bulk (always logged)


@dataclass(frozen=True)
class ScopeRule:
    # Path to the column holding the row's place code ("code" for Place, "place_code" elsewhere).
    place_field: str
    # Action → roles that may take it on rows inside their jurisdiction.
    roles: Mapping[str, Iterable[str]]
    # Optional narrowing per assignment, e.g. a back-office clerk sees only their department.
    narrow: Callable[[RoleAssignment], Q] | None = None
    # Optional path to a user column: a user always sees the rows that are their own.
    owner_field: str | None = None
    owner_actions: frozenset[str] = field(default_factory=lambda: frozenset({VIEW}))
    # Whether the filter may duplicate rows (a to-many path), so the result needs DISTINCT.
    distinct: bool = False


_RULES: dict[type[models.Model], ScopeRule] = {}


def register_scope(model: type[models.Model], rule: ScopeRule) -> None:
    unknown = {role for roles in rule.roles.values() for role in roles} - set(Role.values)
    if unknown:
        raise ImproperlyConfigured(f"scope rule of {model.__name__} names unknown roles {sorted(unknown)}")
    _RULES[model] = rule


def scope_rule(model: type[models.Model]) -> ScopeRule:
    try:
        return _RULES[model]
    except KeyError:
        raise ImproperlyConfigured(
            f"{model.__name__} has no scope rule: register one with accounts.scoping.register_scope"
        ) from None


def active_assignments(user: User) -> list[RoleAssignment]:
    """The user's active assignments with their places, loaded once per user object (request)."""
    cached = getattr(user, "_shequ_assignments", None)
    if cached is None:
        from .models import RoleAssignment

        cached = list(RoleAssignment.objects.active().filter(user=user).select_related("place", "department"))
        user._shequ_assignments = cached  # type: ignore[attr-defined,union-attr]
    return cached


def user_roles(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return {a.role for a in active_assignments(user)}


def _minimal_prefixes(prefixes: Iterable[str]) -> list[str]:
    """Drop every prefix that another one in the set already covers."""
    result: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(kept) for kept in result):
            result.append(prefix)
    return result


def jurisdiction(user: Any, roles: Iterable[str] | None = None) -> list[str]:
    """Place-code prefixes of the user's jurisdiction, for the given roles (all when None)."""
    if not getattr(user, "is_authenticated", False):
        return []
    wanted = set(roles) if roles is not None else None
    return _minimal_prefixes(
        subtree_prefix(a.place.code, a.place.kind)
        for a in active_assignments(user)
        if wanted is None or a.role in wanted
    )


def within_jurisdiction(user: Any, roles: Iterable[str], field: str = "code") -> Q | None:
    """Rows whose `field` lies under the places where `user` holds one of `roles`; None when
    there are none (a superuser needs no condition: callers skip it for them)."""
    prefixes = jurisdiction(user, roles)
    if not prefixes:
        return None
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{f"{field}__within": prefix})
    return condition


def scope_q(user: Any, model: type[models.Model], action: str) -> Q | None:
    """The filter that limits `model` to what `user` may `action`; None means nothing at all."""
    rule = scope_rule(model)
    allowed = set(rule.roles.get(action, ()))
    clauses: list[Q] = []
    if rule.narrow is None:
        for prefix in jurisdiction(user, allowed):
            clauses.append(Q(**{f"{rule.place_field}__within": prefix}))
    else:
        for assignment in active_assignments(user):
            if assignment.role in allowed:
                prefix = subtree_prefix(assignment.place.code, assignment.place.kind)
                clauses.append(Q(**{f"{rule.place_field}__within": prefix}) & rule.narrow(assignment))
    if rule.owner_field and action in rule.owner_actions:
        clauses.append(Q(**{rule.owner_field: user.pk}))
    if not clauses:
        return None
    combined = clauses[0]
    for clause in clauses[1:]:
        combined |= clause
    return combined


def restrict(queryset: QuerySet[M], user: Any, action: str) -> QuerySet[M]:
    """Limit `queryset` to the rows `user` may take `action` on."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return queryset.none()
    rule = scope_rule(queryset.model)
    if user.is_superuser:
        return queryset
    condition = scope_q(user, queryset.model, action)
    if condition is None:
        return queryset.none()
    queryset = queryset.filter(condition)
    return queryset.distinct() if rule.distinct else queryset


def can(user: Any, action: str, obj: models.Model) -> bool:
    """Whether `user` may take `action` on this one row."""
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()


def may_act(user: Any, model: type[models.Model], action: str) -> bool:
    """Whether `user` may take `action` on any row of `model` at all (for showing buttons, menus)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return scope_q(user, model, action) is not None


def get_scoped_or_404(queryset: QuerySet[M], user: Any, action: str, **lookup: Any) -> M:
    """One row by `lookup`, or 404 whether it is missing or merely outside the user's scope."""
    try:
        return restrict(queryset, user, action).get(**lookup)
    except ObjectDoesNotExist:
        raise Http404 from None
