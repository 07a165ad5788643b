"""``linli api-client add NAME --user USERNAME``: register an API client (Open311, triage) and
print its key once; ``linli api-client list``; ``linli api-client disable PREFIX``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.accounts.api_keys import api_client_register
from linli.accounts.models import ApiClient, User
from linli.core.access import SYSTEM


class Command(BaseCommand):
    help = "Register, list or disable API clients (the api_key of Open311 and the triage endpoint)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("name")
        add.add_argument("--user", required=True, help="the account the client acts as (its roles decide its scope)")
        sub.add_parser("list")
        disable = sub.add_parser("disable")
        disable.add_argument("prefix", help="the first 8 characters of the key")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_("没有账户 %(user)s") % {"user": options["user"]})
            try:
                client, key = api_client_register(actor=SYSTEM, name=options["name"], user=user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(f"{client.name}: api_key = {key}")
            self.stdout.write(_("请妥善保存，此密钥只显示一次"))
        elif action == "list":
            for client in ApiClient.objects.select_related("user").order_by("created_at"):
                state = "active" if client.active else "disabled"
                self.stdout.write(f"{client.key_prefix}…  {client.name}  user={client.user.username}  {state}")
        else:
            updated = ApiClient.objects.filter(key_prefix=options["prefix"]).update(active=False)
            if not updated:
                raise CommandError(_("没有前缀为 %(prefix)s 的客户端") % {"prefix": options["prefix"]})
            self.stdout.write(f"disabled {updated}")
