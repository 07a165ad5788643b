"""``linli db start|stop|status``: the embedded PostgreSQL in ./var/pg."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.core import embedded


class Command(BaseCommand):
    help = "Start, stop or inspect the embedded PostgreSQL server (used when DATABASE_URL is unset)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if settings.DATABASES["default"]["ENGINE"] != "linli.core.pgembedded":
            raise CommandError(_("已设置 DATABASE_URL，未使用内置数据库"))
        if action == "start":
            info = embedded.ensure_server(keep=True)
            embedded.ensure_database(settings.DATABASES["default"]["NAME"])
            self.stdout.write(self.style.SUCCESS(f"PostgreSQL running (pid {info.pid}), socket {info.host}"))
            self.stdout.write("It keeps running until `linli db stop`.")
        elif action == "stop":
            stopped = embedded.stop()
            self.stdout.write("stopped" if stopped else "not running")
        else:
            state = embedded.status()
            for key, value in state.items():
                self.stdout.write(f"{key}: {value}")
