"""Print a new API token for a user (for scripts and integrations)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shequ.accounts.models import User
from shequ.accounts.services import token_issue


class Command(BaseCommand):
    help = "Issue a new API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py issue_token", help="what the token is for")
        parser.add_argument("--days", type=int, default=90, help="days until it expires (0 = never)")

    def handle(self, *args, username: str, name: str, days: int, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户 {username!r} 不存在 / no such user")
        if not user.is_active:
            raise CommandError(f"用户 {username!r} 已停用 / user is inactive")
        try:
            _token, secret = token_issue(
                by="manage.py issue_token", user=user, name=name, expires_in_days=days or None
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(secret)
