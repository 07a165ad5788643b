"""``linli serve``: the web server (gunicorn) on 127.0.0.1:8000 by default."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.core.management.process import hold_database


class Command(BaseCommand):
    help = "Serve the web application with gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("LINLI_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def handle(self, *args: Any, bind: str, workers: int, **options: Any) -> None:
        hold_database()
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "linli.config.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        proc = subprocess.Popen(cmd)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            code = proc.wait()
        sys.exit(code)
