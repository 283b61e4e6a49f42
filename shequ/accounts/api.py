from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from shequ.core.masking import mask_phone

from .scoping import active_assignments, jurisdiction

router = Router(tags=["accounts"])


class AssignmentOut(Schema):
    role: str
    role_label: str
    place_code: str
    place_name: str
    department: str | None


class MeOut(Schema):
    username: str
    name: str
    phone: str
    is_superuser: bool
    assignments: list[AssignmentOut]
    jurisdiction: list[str]


@router.get("/me", response=MeOut, summary="当前用户、角色与辖区")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.get_username(),
        name=user.display_name,  # type: ignore[union-attr]
        phone=mask_phone(user.phone),  # type: ignore[union-attr]
        is_superuser=user.is_superuser,
        assignments=[
            AssignmentOut(
                role=a.role,
                role_label=str(a.get_role_display()),
                place_code=a.place.code,
                place_name=a.place.name,
                department=a.department.name if a.department else None,
            )
            for a in active_assignments(user)  # type: ignore[arg-type]
        ],
        jurisdiction=jurisdiction(user),
    )
