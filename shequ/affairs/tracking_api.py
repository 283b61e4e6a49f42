"""Public tracking in the JSON API: ``GET /api/v1/track/?number=…&phone4=…`` (no authentication).

Returns the same public view as the page (`tracking.public_status`), with no personal data.
Errors use the API's one shape: 404 for "no such case or wrong digits" (indistinguishable),
429 when the client has looked up too often, 400 naming the malformed field.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from . import tracking

router = Router(tags=["tracking"], auth=None)


class TrackQuery(Schema):
    number: str = Field(..., max_length=40, description="办件编号，如 SW20261123-0001（空格和大小写不限）。")
    phone4: str = Field(..., max_length=8, description="申请人手机号后四位。")


class TrackEventOut(Schema):
    kind: str = Field(..., description="事件类型代码。")
    label: str = Field(..., description="事件名称。")
    at: dt.datetime
    step_from: str
    step_from_label: str
    step_to: str
    step_to_label: str
    note: str = Field("", description="公开说明（如暂停计时的原因）。")


class TrackOut(Schema):
    number: str
    matter: str = Field(..., description="办理事项名称。")
    step: str
    step_label: str = Field(..., description="当前环节。")
    status: str = Field(..., description="open、paused 或 closed。")
    status_label: str
    due_at: dt.datetime | None = Field(None, description="本环节期限；办结后为空。")
    due_provisional: bool = Field(..., description="期限所在年度的节假日安排尚未公布，期限为临时计算。")
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    history: list[TrackEventOut]


@router.get(
    "",
    response=TrackOut,
    summary="按办件编号和手机号后四位查询办理进度",
    openapi_extra={"responses": {404: {"description": "未找到"}, 429: {"description": "查询过于频繁"}}},
)
def track(request: HttpRequest, query: Query[TrackQuery]):
    try:
        case = tracking.lookup(request, query.number, query.phone4)
    except tracking.RateLimited as exc:
        raise HttpError(429, str(exc.message)) from exc
    if case is None:
        raise Http404(str(tracking.NOT_FOUND_MESSAGE))
    return tracking.public_status(case)
