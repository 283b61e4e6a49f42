"""Users act through role assignments, each bound to a place (DESIGN §1.4).

A user's jurisdiction for an action is the union of the subtrees of the places of those of
their assignments whose role may take that action (see `scoping.restrict`).
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.core.models import TimeStampedModel
from shequ.places.models import Place

from .choices import Role


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Department(TimeStampedModel):
    """A section of a street or district office (科室), or an outside responsible unit."""

    place = models.ForeignKey(
        Place, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    code = models.SlugField(_("部门代码"), max_length=40)
    name = models.CharField(_("部门名称"), max_length=100)
    head = models.ForeignKey(
        User, verbose_name=_("负责人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["place__code", "code"]
        constraints = [models.UniqueConstraint(fields=["place", "code"], name="department_unique_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def place_code(self) -> str:
        return self.place.code


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def active(self, at=None) -> RoleAssignmentQuerySet:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=at).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=at)
        )


class RoleAssignment(TimeStampedModel):
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    place = models.ForeignKey(Place, verbose_name=_("辖区"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    valid_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        ordering = ["user_id", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "place", "department"],
                condition=Q(revoked_at__isnull=True),
                name="assignment_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.place.name}"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(TimeStampedModel):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=100)
    # The first characters of the token, shown in lists so a user can tell tokens apart.
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
