"""The in-app inbox: a user's own notifications, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequ.core.http import AuthedRequest
from shequ.core.pagination import keyset_page

from . import selectors, services


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    page = keyset_page(selectors.inbox(request.user), request, order="-id")
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_count": services.unread_count(request.user)},
    )


@login_required
@require_POST
def read(request: AuthedRequest) -> HttpResponse:
    """Mark read: the notifications named by `id` (query string or form, repeatable), else all."""
    raw_ids = request.POST.getlist("id") or request.GET.getlist("id")
    ids: list[int] | None = None
    if raw_ids:
        try:
            ids = [int(value) for value in raw_ids]
        except ValueError:
            return HttpResponseBadRequest(_("消息编号无效。"))
    marked = services.mark_read(user=request.user, notification_ids=ids)
    if ids is None:
        messages.success(request, _("已将全部消息标为已读。"))
    elif marked:
        messages.success(request, _("已标为已读。"))
    return redirect("notifications:inbox")
