from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shequ.audit.models import AccessAction
from shequ.audit.services import record_access
from shequ.core.http import AuthedRequest
from shequ.core.idempotency import key_from, run_once
from shequ.core.masking import mask_phone
from shequ.core.pagination import keyset_page

from . import services
from .forms import LoginForm, RevealForm, TokenForm
from .models import ApiToken, User
from .scopes import MANAGERS
from .scoping import REVEAL, VIEW, get_scoped_or_404, may_act, restrict, user_roles


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: AuthedRequest) -> HttpResponse:
    """The user's own API tokens: create (shown once) and revoke."""
    new_secret = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = run_once(
            key=key_from(request),
            user_id=request.user.pk,
            scope="accounts.token_issue",
            action=lambda: services.token_issue(
                by=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            ),
            encode=lambda issued: issued[0].pk,
            decode=lambda pk: (ApiToken.objects.get(pk=pk), None),
        )
        new_secret = outcome.value[1]
        if outcome.replayed:
            messages.info(request, _("该请求已处理过，令牌已生成；为安全起见，令牌不再显示。"))
        form = TokenForm()
    rows = ApiToken.objects.filter(user=request.user).order_by("-created_at")[:100]
    return render(request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_secret": new_secret})


@login_required
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, pk=token_id)
    services.token_revoke(by=request.user, token=token)
    messages.success(request, _("令牌“%(name)s”已撤销。") % {"name": token.name})
    return redirect("accounts:tokens")


@login_required
def staff(request: AuthedRequest) -> HttpResponse:
    """Staff of the user's jurisdiction, phone numbers masked."""
    if not (request.user.is_superuser or user_roles(request.user) & MANAGERS):
        raise PermissionDenied
    queryset = restrict(User.objects.filter(is_active=True), request.user, VIEW).prefetch_related(
        "assignments__place", "assignments__department"
    )
    page = keyset_page(queryset, request, order="id")
    rows = [
        {
            "user": u,
            "phone": mask_phone(u.phone),
            "assignments": [a for a in u.assignments.all() if a.revoked_at is None],
        }
        for u in page.items
    ]
    return render(
        request,
        "accounts/staff.html",
        {
            "rows": rows,
            "page": page,
            "can_reveal": may_act(request.user, User, REVEAL),
            "reveal_form": RevealForm(),
        },
    )


@login_required
@require_POST
def reveal_phone(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Show one staff member's full phone number, after a stated purpose, and log it."""
    person = get_scoped_or_404(User.objects.all(), request.user, REVEAL, pk=user_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(
            request, "accounts/partials/reveal_form.html", {"person": person, "reveal_form": form}, status=400
        )
    record_access(
        actor=request.user,
        action=AccessAction.REVEAL,
        subject_type="accounts.user",
        subject_id=str(person.pk),
        subject_repr=f"{person.display_name} {mask_phone(person.phone)}",
        fields=["phone"],
        purpose=form.cleaned_data["purpose"],
    )
    return render(request, "accounts/partials/revealed.html", {"value": person.phone or "—"})
