"""Helpers for long-running commands (demo, serve, worker)."""

from __future__ import annotations

import signal
import sys

from django.conf import settings


def hold_database() -> None:
    """Make this process a holder of the embedded server, and turn SIGTERM into a normal
    exit so that the server is stopped when the last holder ends."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if settings.DATABASES["default"]["ENGINE"] == "linli.core.pgembedded":
        from linli.core import embedded

        embedded.ensure_server()
        embedded.ensure_database(settings.DATABASES["default"]["NAME"])
