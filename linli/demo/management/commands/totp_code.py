"""``linli totp-code USERNAME``: the current TOTP code of a demo account (demo only)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.demo.loader import totp_code_for


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of a demo account. Only with the demo settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not getattr(settings, "LINLI_DEMO", False):
            raise CommandError(_("只能用于演示环境"))
        from allauth.mfa import app_settings

        try:
            code = totp_code_for(username)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        period = int(app_settings.TOTP_PERIOD)
        remaining = period - int(time.time()) % period
        self.stdout.write(code)
        self.stderr.write(_("还可使用 %(seconds)s 秒") % {"seconds": remaining})
