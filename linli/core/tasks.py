"""Background jobs of the core: the worker's heartbeat, which re-enqueues itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from linli.core import ratelimit
from linli.core.models import Heartbeat
from linli.core.notify import requeue_stale

HEARTBEAT = "worker"


@task()
def beat_worker() -> str:
    """Record that a worker ran a task just now, and schedule the next beat."""
    now = timezone.now()
    ratelimit.purge_expired()
    requeue_stale(now=now)
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"at": now})
        beat_worker.using(run_after=now + dt.timedelta(seconds=settings.WORKER_HEARTBEAT_SECONDS)).enqueue()
    return now.isoformat()


def ensure_scheduled(periodic: Any) -> None:
    """Called when a worker starts: enqueue a task that re-enqueues itself (a periodic sweep)
    unless one is already waiting."""
    from django_tasks_db.models import DBTaskResult

    if not DBTaskResult.objects.filter(task_path=periodic.module_path, status="READY").exists():
        periodic.enqueue()


def ensure_heartbeat_scheduled() -> None:
    ensure_scheduled(beat_worker)


def worker_is_fresh() -> tuple[bool, dt.datetime | None]:
    beat = Heartbeat.objects.filter(name=HEARTBEAT).first()
    if beat is None:
        return False, None
    age = (timezone.now() - beat.at).total_seconds()
    return age <= settings.WORKER_HEARTBEAT_STALE_SECONDS, beat.at
