"""Sign-ins and failed sign-ins go to the change log (who, when, from where)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from shequ.audit.models import ChangeAction
from shequ.audit.services import record_change


@receiver(user_logged_in, dispatch_uid="shequ_audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    record_change(actor=user, action=ChangeAction.LOGIN, obj=user, only_changes=False)


@receiver(user_logged_out, dispatch_uid="shequ_audit_logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_change(actor=user, action=ChangeAction.LOGOUT, obj=user, only_changes=False)


@receiver(user_login_failed, dispatch_uid="shequ_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    record_change(
        actor=username or "?",
        action=ChangeAction.LOGIN_FAILED,
        object_type="accounts.user",
        object_repr=username,
        only_changes=False,
    )
