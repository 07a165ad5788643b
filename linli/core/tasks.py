"""Background jobs of the core: the worker's heartbeat, which re-enqueues itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from linli.core import ratelimit
from linli.core.models import Heartbeat
from linli.core.notify import requeue_stale

HEARTBEAT = "worker"
#: Namespace (the first key) of the advisory locks that serialise scheduling a periodic task.
SCHEDULE_LOCK = 0x4C4E5331


@task()
def beat_worker() -> str:
    """Record that a worker ran a task just now, and schedule the next beat."""
    now = timezone.now()
    ratelimit.purge_expired()
    requeue_stale(now=now)
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"at": now})
        schedule_next(beat_worker, run_after=now + dt.timedelta(seconds=settings.WORKER_HEARTBEAT_SECONDS))
    return now.isoformat()


def schedule_next(periodic: Any, *, run_after: dt.datetime | None = None) -> bool:
    """Enqueue the next run of a periodic task unless one is already waiting; True if it did.

    Every periodic task schedules its successor through here, and a worker that starts calls
    it for each (``ensure_scheduled``), so there is one chain per task: a run put back in the
    queue after its worker was killed, beside the run a new worker scheduled, becomes one
    chain again at its end instead of two sweeps forever. An advisory lock on the task's path,
    held to the end of the transaction, keeps two workers from both seeing none waiting.
    """
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SCHEDULE_LOCK, periodic.module_path])
        if DBTaskResult.objects.filter(task_path=periodic.module_path, status="READY").exists():
            return False
        periodic.using(run_after=run_after or timezone.now()).enqueue()
        return True


def ensure_scheduled(periodic: Any) -> None:
    """Called when a worker starts: enqueue a task that re-enqueues itself (a periodic sweep)
    unless one is already waiting."""
    schedule_next(periodic)


def ensure_heartbeat_scheduled() -> None:
    ensure_scheduled(beat_worker)


def worker_is_fresh() -> tuple[bool, dt.datetime | None]:
    beat = Heartbeat.objects.filter(name=HEARTBEAT).first()
    if beat is None:
        return False, None
    age = (timezone.now() - beat.at).total_seconds()
    return age <= settings.WORKER_HEARTBEAT_STALE_SECONDS, beat.at
