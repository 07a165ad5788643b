"""``linli worker``: runs background tasks (django-tasks database backend) and the periodic
sweeps the apps registered (``core.registry.register_periodic``), each re-enqueueing itself;
the heartbeat is the core's own."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from linli.core.registry import periodic_tasks
from linli.core.tasks import ensure_scheduled


class Command(DBWorkerCommand):
    help = "Run the Linli background worker: tasks and periodic sweeps. Ctrl-C stops it."

    def handle(self, *args: Any, **options: Any) -> None:
        for task in periodic_tasks():
            ensure_scheduled(task)
        super().handle(*args, **options)
