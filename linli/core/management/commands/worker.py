"""``linli worker``: runs background tasks (django-tasks database backend) and the
periodic sweeps, which re-enqueue themselves (the heartbeat is the first of them)."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from linli.core.tasks import ensure_heartbeat_scheduled
from linli.needs.tasks import ensure_sweep_scheduled
from linli.visits.tasks import ensure_reminders_scheduled


class Command(DBWorkerCommand):
    help = "Run the Linli background worker: tasks and periodic sweeps. Ctrl-C stops it."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_heartbeat_scheduled()
        ensure_sweep_scheduled()
        ensure_reminders_scheduled()
        super().handle(*args, **options)
