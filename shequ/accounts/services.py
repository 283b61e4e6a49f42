"""State changes of accounts: role grants, API tokens. Each writes its audit row in the same
transaction (DESIGN §4.1)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change, snapshot
from shequ.places.choices import KIND_DEPTH, PlaceKind
from shequ.places.codes import subtree_prefix
from shequ.places.models import Place

from .choices import ROLE_PLACE_KINDS, ROLES_WITH_DEPARTMENT, Role
from .models import ApiToken, Department, RoleAssignment, User, hash_token
from .scoping import ADD, CHANGE, jurisdiction, scope_rule

TOKEN_PREFIX = "sq_"
# Roles a centre manager may not hand out: only leaders (or administrators) create managers.
LEADER_ONLY_ROLES = frozenset({Role.LEADER, Role.CENTRE_MANAGER})


def _within_scope(by: Any, model: type, action: str, place: Place) -> bool:
    if by.is_superuser:
        return True
    allowed = scope_rule(model).roles.get(action, ())
    return any(place.code.startswith(prefix) for prefix in jurisdiction(by, allowed))


@transaction.atomic
def assignment_grant(
    *, by: Any, user: User, role: str, place: Place, department: Department | None = None
) -> RoleAssignment:
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [_("角色“%(role)s”不存在。") % {"role": role}]
    elif place.kind not in ROLE_PLACE_KINDS[role]:
        kinds = "、".join(
            str(PlaceKind(k).label) for k in sorted(ROLE_PLACE_KINDS[role], key=KIND_DEPTH.__getitem__)
        )
        errors["place"] = [
            _("“%(role)s”只能分配在以下层级：%(kinds)s。") % {"role": Role(role).label, "kinds": kinds}
        ]
    if role in ROLES_WITH_DEPARTMENT and department is None:
        errors["department"] = [_("后台经办人必须指定所在部门。")]
    if department is not None and not place.code.startswith(
        subtree_prefix(department.place.code, department.place.kind)
    ):
        errors["department"] = [_("部门“%(dept)s”不属于该辖区。") % {"dept": department.name}]
    if errors:
        raise ValidationError(errors)
    if not _within_scope(by, RoleAssignment, ADD, place):
        raise PermissionDenied(_("您不能在辖区之外分配角色。"))
    if (
        role in LEADER_ONLY_ROLES
        and not by.is_superuser
        and Role.LEADER not in {a.role for a in by.assignments.active()}
    ):
        raise PermissionDenied(_("只有领导可以分配“%(role)s”角色。") % {"role": Role(role).label})
    existing = (
        RoleAssignment.objects.active()
        .filter(user=user, role=role, place=place, department=department)
        .first()
    )
    if existing:
        return existing  # granting twice is a no-op, not an error (double click, retry)
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, role=role, place=place, department=department
            )
    except IntegrityError:
        return RoleAssignment.objects.active().get(user=user, role=role, place=place, department=department)
    record_change(
        actor=by,
        action=ChangeAction.GRANT,
        obj=assignment,
        place_code=place.code,
        after=snapshot(assignment),
        only_changes=False,
    )
    return assignment


@transaction.atomic
def assignment_revoke(*, by: Any, assignment: RoleAssignment) -> RoleAssignment:
    if not _within_scope(by, RoleAssignment, CHANGE, assignment.place):
        raise PermissionDenied(_("您不能撤销辖区之外的角色。"))
    updated = RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    assignment.refresh_from_db()
    if updated:
        record_change(
            actor=by,
            action=ChangeAction.REVOKE,
            obj=assignment,
            place_code=assignment.place.code,
            before={"revoked_at": None},
            after={"revoked_at": assignment.revoked_at},
        )
    return assignment


@transaction.atomic
def token_issue(*, by: Any, user: User, name: str, expires_in_days: int | None = 90) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("请填写令牌用途。")]})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires_in_days": [_("有效天数应在 1 到 3650 之间。")]})
    if by != user and not getattr(by, "is_superuser", False) and not isinstance(by, str):
        raise PermissionDenied(_("只能为自己签发令牌。"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=secret[:10],
        digest=hash_token(secret),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    record_change(
        actor=by,
        action=ChangeAction.TOKEN_ISSUED,
        obj=token,
        after=snapshot(token, exclude=["digest"]),
        only_changes=False,
    )
    return token, secret


@transaction.atomic
def token_revoke(*, by: Any, token: ApiToken) -> ApiToken:
    if token.user_id != getattr(by, "pk", None) and not getattr(by, "is_superuser", False):
        raise PermissionDenied(_("只能撤销自己的令牌。"))
    now = timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        record_change(
            actor=by,
            action=ChangeAction.TOKEN_REVOKED,
            obj=token,
            before={"revoked_at": None},
            after={"revoked_at": now},
        )
    token.refresh_from_db()
    return token


def authenticate_token(raw: str) -> tuple[User | None, str]:
    """The token's user, or None and the reason in the user's language."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None, _("API 令牌格式无效。")
    token = ApiToken.objects.select_related("user").filter(digest=hash_token(raw)).first()
    if token is None:
        return None, _("API 令牌无效。")
    now = timezone.now()
    if token.revoked_at is not None:
        return None, _("API 令牌已于 %(when)s 撤销。") % {
            "when": timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M")
        }
    if token.expires_at is not None and token.expires_at <= now:
        return None, _("API 令牌已于 %(when)s 过期。") % {
            "when": timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
        }
    if not token.user.is_active:
        return None, _("该账号已停用。")
    # Touch at most once a minute: a busy client must not turn every read into a write.
    stale = now - timedelta(minutes=1)
    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk).update(
        last_used_at=now
    )
    return token.user, ""
