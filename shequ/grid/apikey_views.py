"""Open311 API keys (/grid/apikeys/): the centres' staff list the keys of their area, issue a
key to a client for one street or district, and revoke it.

Only the key's SHA-256 is stored. The key itself is shown once: the create POST puts it in the
session and redirects, and the next page view takes it out. A replayed create (same idempotency
key) issues nothing new and cannot show the key again.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from shequ.accounts.scoping import (
    ADD,
    CHANGE,
    VIEW,
    get_scoped_or_404,
    may_act,
    restrict,
    scope_rule,
    within_jurisdiction,
)
from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change
from shequ.core.actions import form_errors_as_messages
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.places.choices import PlaceKind
from shequ.places.models import Place

from .models import ApiKey

SESSION_KEY = "grid_new_apikey"
LIST_LIMIT = 200


def key_places(user: Any) -> list[Place]:
    """Streets and districts a key may be issued for: those inside the user's ADD jurisdiction."""
    places = Place.objects.filter(kind__in=[PlaceKind.DISTRICT, PlaceKind.STREET], is_active=True)
    if not user.is_superuser:
        condition = within_jurisdiction(user, scope_rule(ApiKey).roles.get(ADD, ()))
        if condition is None:
            return []
        places = places.filter(condition)
    return list(places.order_by("code")[:500])


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("客户端名称"), max_length=100)
    contact = forms.CharField(label=gettext_lazy("联系人"), max_length=100, required=False)
    place = forms.ChoiceField(label=gettext_lazy("受理区域"))

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {p.code: p for p in places}
        place_field = self.fields["place"]
        assert isinstance(place_field, forms.ChoiceField)
        place_field.choices = [(p.code, f"{p.name}（{p.code}）") for p in places]


def issue_key(*, by: Any, name: str, contact: str, place: Place) -> tuple[ApiKey, str]:
    """A new key: (the stored row, the key itself, which is never stored)."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            contact=contact.strip(),
            digest=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
            prefix=raw[:8],
            place=place,
            created_by=by,
        )
        record_change(
            actor=by,
            action=ChangeAction.TOKEN_ISSUED,
            obj=key,
            after={"name": key.name, "prefix": key.prefix, "place": place.code},
        )
    return key, raw


def revoke_key(*, by: Any, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, is_active=True).update(is_active=False)
        if changed:
            record_change(actor=by, action=ChangeAction.REVOKE, obj=key, after={"is_active": False})
    key.refresh_from_db()
    return key


def _create(request: AuthedRequest, places: list[Place]) -> HttpResponse | None:
    """Issue a key from the POSTed form; None when the form is invalid (the page shows why)."""
    form = ApiKeyForm(request.POST, places=places)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return None
    place = form.places[form.cleaned_data["place"]]
    issued: dict[str, Any] = {}

    def action() -> int:
        key, raw = issue_key(
            by=request.user, name=form.cleaned_data["name"], contact=form.cleaned_data["contact"], place=place
        )
        issued["raw"] = raw
        return key.pk

    outcome = run_once(
        key=key_from(request),
        user_id=request.user.pk,
        scope="grid.apikey.create",
        action=action,
        encode=lambda pk: pk,
        decode=lambda stored: stored,
    )
    if outcome.replayed:
        messages.info(request, _("该密钥已创建；密钥只显示一次，如未保存请撤销后重新创建。"))
    else:
        request.session[SESSION_KEY] = {"id": outcome.value, "key": issued["raw"]}
        messages.success(request, _("密钥已创建。"))
    return HttpResponseRedirect(reverse("grid:apikeys"))


def _revoke(request: AuthedRequest) -> HttpResponse:
    key_id = request.POST.get("key", "")
    key = get_scoped_or_404(ApiKey.objects.all(), request.user, CHANGE, pk=key_id if key_id.isdigit() else 0)
    revoke_key(by=request.user, key=key)
    messages.success(request, _("密钥“%(name)s”已撤销。") % {"name": key.name})
    return HttpResponseRedirect(reverse("grid:apikeys"))


@never_cache
@login_required
def apikeys(request: AuthedRequest) -> HttpResponse:
    if not may_act(request.user, ApiKey, VIEW):
        raise PermissionDenied
    may_add = may_act(request.user, ApiKey, ADD)
    places = key_places(request.user) if may_add else []
    form = ApiKeyForm(places=places)
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            return _revoke(request)
        if not may_add:
            raise PermissionDenied
        response = _create(request, places)
        if response is not None:
            return response
        form = ApiKeyForm(request.POST, places=places)
    new_key = request.session.pop(SESSION_KEY, None)
    keys = list(
        restrict(ApiKey.objects.select_related("place"), request.user, VIEW).order_by("-created_at")[
            :LIST_LIMIT
        ]
    )
    changeable = {
        k.pk for k in restrict(ApiKey.objects.filter(pk__in=[k.pk for k in keys]), request.user, CHANGE)
    }
    for key in keys:
        key.may_revoke = key.is_active and key.pk in changeable  # type: ignore[attr-defined]
    return render(
        request,
        "grid/apikeys.html",
        {
            "keys": keys,
            "form": form,
            "may_add": may_add and bool(places),
            "new_key": new_key,
            "discovery_url": request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"})),
        },
        status=400 if request.method == "POST" else 200,
    )
