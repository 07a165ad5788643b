"""``linli demo``: migrate, load the demo, then serve on 127.0.0.1:8000 with the worker.

The web server and the worker run as child processes in this process group. A child that
dies is started again, after a pause that doubles up to half a minute while it keeps dying
(one log line each time); Ctrl-C (or SIGTERM) stops both, and then the embedded PostgreSQL
when this process exits.
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
        commands = [[*python, "serve", "--bind", bind], [*python, "worker", "--interval", "1"]]
        children = [subprocess.Popen(command) for command in commands]
        supervisor = Supervisor(commands, children, log=self.stderr.write)

        def stop(*_: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        url = f"http://{bind}/healthz"
        ready = False
        try:
            while True:
                supervisor.check()
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
            children = supervisor.children
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()


class Supervisor:
    """Keeps the demo's children running: one that exits is started again after a pause,
    1 s at first, doubling while it keeps exiting within a minute of its start (up to 30 s)."""

    PAUSES = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

    def __init__(
        self,
        commands: list[list[str]],
        children: list[Any],
        *,
        log: Any,
        clock: Any = time.monotonic,
        names: list[str] | None = None,
        spawn: Any = subprocess.Popen,
    ) -> None:
        self.commands = commands
        self.spawn = spawn
        self.names = names or [" ".join(command[3:4]) or command[0] for command in commands]
        self.children = children
        self.log = log
        self.clock = clock
        self.started = [clock() for _ in children]
        self.failures = [0 for _ in children]
        self.due: list[float | None] = [None for _ in children]

    def check(self) -> None:
        now = self.clock()
        for n, child in enumerate(self.children):
            due = self.due[n]
            if due is not None:
                if now >= due:
                    self.children[n] = self.spawn(self.commands[n])
                    self.started[n], self.due[n] = now, None
                continue
            code = child.poll()
            if code is None:
                continue
            self.failures[n] = self.failures[n] + 1 if now - self.started[n] < 60 else 1
            pause = self.PAUSES[min(self.failures[n], len(self.PAUSES)) - 1]
            self.log(
                _("%(process)s 已退出(代码 %(code)s)，%(pause)s 秒后重新启动")
                % {"process": self.names[n], "code": code, "pause": f"{pause:.0f}"}
            )
            self.due[n] = now + pause


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own loopback server
            return response.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 503  # up, the worker's first heartbeat not in yet
    except Exception:
        return False
