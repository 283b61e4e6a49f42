from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续错误 %(limit)s 次后，该账号将被暂时锁定。"),
        "inactive": _("该账号已停用，请联系管理员。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def get_invalid_login_error(self):
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("用途"), max_length=100, help_text=_("例如：数据对接、统计脚本"))
    expires_in_days = forms.IntegerField(
        label=_("有效天数"), min_value=1, max_value=3650, initial=90, help_text=_("到期后令牌自动失效")
    )


class RevealForm(forms.Form):
    purpose = forms.CharField(
        label=_("查看原因"),
        max_length=300,
        min_length=2,
        help_text=_("查看完整号码会记入个人信息访问日志。"),
        error_messages={"required": _("请填写查看原因。"), "min_length": _("查看原因太短。")},
    )
