"""Helpers for long-running commands (demo, serve, worker)."""

from __future__ import annotations

import signal
import sys
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def hold_database() -> None:
    """Make this process a holder of the embedded server, and turn SIGTERM into a normal
    exit so that the server is stopped when the last holder ends."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if settings.DATABASES["default"]["ENGINE"] == "linli.core.pgembedded":
        from linli.core import embedded

        embedded.ensure_server()
        embedded.ensure_database(settings.DATABASES["default"]["NAME"])


def console_for(command: BaseCommand) -> Console:
    """A rich console on the command's raw output stream (Django's OutputWrapper would add a
    newline to every chunk rich writes), for progress bars and tables."""
    stream: IO[str] = getattr(command.stdout, "_out", sys.stdout)
    return Console(file=stream, highlight=False, soft_wrap=True)


def progress_bar(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def with_progress(console: Console, label: str, work: Any) -> Any:
    """Run ``work(progress)`` under one progress bar; ``progress(phase, done, total)`` moves it."""
    with progress_bar(console) as bar:
        task = bar.add_task(label, total=None)
        return work(lambda phase, done, total: bar.update(task, description=phase, completed=done, total=total))
