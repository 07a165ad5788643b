"""``linli demo``: migrate, load the demo, then serve on 127.0.0.1:8000 with the worker.

The web server and the worker run as child processes in this process group; Ctrl-C (or
SIGTERM) stops both, and then the embedded PostgreSQL when this process exits.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from linli.core.management.process import hold_database


class Command(BaseCommand):
    help = "Run the whole demo: database, migrations, demo data, web server and worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")

    def handle(self, *args: Any, bind: str, no_serve: bool, **options: Any) -> None:
        started = time.monotonic()
        hold_database()
        self.stdout.write(_("· 数据库迁移"))
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("load_demo")
        if no_serve:
            return
        python = [sys.executable, "-m", "linli.cli"]
        children = [
            subprocess.Popen([*python, "serve", "--bind", bind]),
            subprocess.Popen([*python, "worker", "--interval", "1"]),
        ]

        def stop(*_: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        url = f"http://{bind}/healthz"
        ready = False
        try:
            while True:
                for child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"a child process exited with {child.returncode}; stopping")
                        raise KeyboardInterrupt
                if not ready and _answers(url):
                    ready = True
                    self.stdout.write(
                        self.style.SUCCESS(
                            _("邻里演示已启动：http://%(bind)s/ (首次启动用时 %(started)s 秒)，按 Ctrl-C 停止")
                            % {"bind": bind, "started": f"{time.monotonic() - started:.1f}"}
                        )
                    )
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write(_("· 正在停止"))
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own loopback server
            return response.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 503  # up, the worker's first heartbeat not in yet
    except Exception:
        return False
