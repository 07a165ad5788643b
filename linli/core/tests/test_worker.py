"""The worker after a crash: a task left running by a dead worker goes back in the queue (and
one of a live worker does not), and a periodic task is one chain however it was put back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from linli.core.management.commands.worker import (
    STALE_AFTER,
    Liveness,
    ResilientWorker,
    TaskInterrupted,
    requeue,
    requeue_abandoned,
    worker_alive,
)
from linli.core.tasks import beat_worker, schedule_next
from linli.needs.deadlines import sweep_deadlines

pytestmark = pytest.mark.django_db(transaction=True)


def _running(task: object, worker: str | None, started: dt.datetime) -> DBTaskResult:
    result = task.enqueue()  # type: ignore[attr-defined]
    row = DBTaskResult.objects.get(pk=result.id)
    row.status, row.started_at, row.worker_ids = "RUNNING", started, [worker] if worker else []
    row.save(update_fields=["status", "started_at", "worker_ids"])
    return row


def test_a_task_of_a_dead_worker_goes_back_and_one_of_a_live_worker_stays() -> None:
    now = timezone.now()
    alive, dead = Liveness("worker-alive"), Liveness("worker-dead")
    alive.hold()
    dead.hold()
    try:
        assert worker_alive("worker-alive") and worker_alive("worker-dead")
        dead.release()  # the process died: PostgreSQL dropped its lock with its connection
        assert not worker_alive("worker-dead") and worker_alive("worker-alive")

        of_live = _running(sweep_deadlines, "worker-alive", now - dt.timedelta(hours=3))  # long, but alive
        of_dead = _running(sweep_deadlines, "worker-dead", now - dt.timedelta(seconds=5))  # killed a moment ago
        own = _running(beat_worker, "worker-me", now - dt.timedelta(hours=1))  # the starting worker's own id
        anonymous_old = _running(beat_worker, None, now - STALE_AFTER - dt.timedelta(minutes=1))
        anonymous_new = _running(beat_worker, None, now - dt.timedelta(minutes=1))

        assert requeue_abandoned(own_id="worker-me", now=now) == 2
        status = dict(DBTaskResult.objects.values_list("pk", "status"))
        assert status[of_dead.pk] == "READY" and status[anonymous_old.pk] == "READY"
        assert status[of_live.pk] == status[own.pk] == status[anonymous_new.pk] == "RUNNING"
        assert DBTaskResult.objects.get(pk=of_dead.pk).started_at is None
        assert requeue_abandoned(own_id="worker-me", now=now) == 0  # put back once, not twice
        assert worker_alive("worker-alive")  # checking did not take the live worker's lock
    finally:
        alive.release()
        dead.release()


def test_a_periodic_task_is_one_chain_however_it_was_put_back() -> None:
    path = sweep_deadlines.module_path
    waiting = DBTaskResult.objects.filter(task_path=path, status="READY")
    assert schedule_next(sweep_deadlines) is True
    assert schedule_next(sweep_deadlines) is False and waiting.count() == 1
    # a killed run put back in the queue beside the one a new worker scheduled: two waiting
    killed = _running(sweep_deadlines, "worker-dead", timezone.now())
    assert requeue_abandoned(own_id="worker-me") == 1 and waiting.count() == 2
    assert DBTaskResult.objects.get(pk=killed.pk).status == "READY"
    # each run schedules its successor only when none waits: the two chains end as one
    first, second = list(waiting.order_by("enqueued_at"))
    for row in (first, second):
        DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL", finished_at=timezone.now())
        schedule_next(sweep_deadlines, run_after=timezone.now() + dt.timedelta(seconds=60))
    assert waiting.count() == 1


@task()
def cut_off_by_an_outage() -> None:
    """A task the database's restart cuts off half-way."""
    raise OperationalError("terminating connection due to administrator command")


@task()
def fails_on_its_own() -> None:
    raise ValueError("a bug, not an outage")


def test_a_task_cut_off_by_an_outage_goes_back_once_and_a_failing_one_does_not() -> None:
    worker = ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="worker-me",
        excluded_queue_names=[],
    )
    cut = DBTaskResult.objects.get(pk=cut_off_by_an_outage.enqueue().id)
    cut.claim("worker-me")
    with pytest.raises(TaskInterrupted):
        worker.run_task(cut)
    assert DBTaskResult.objects.get(pk=cut.pk).status == "RUNNING"  # not recorded as failed
    assert requeue(cut.pk) == 1 and requeue(cut.pk) == 0  # back in the queue once
    assert DBTaskResult.objects.get(pk=cut.pk).status == "READY"

    bug = DBTaskResult.objects.get(pk=fails_on_its_own.enqueue().id)
    bug.claim("worker-me")
    worker.run_task(bug)
    assert DBTaskResult.objects.get(pk=bug.pk).status == "FAILED"  # a bug is not run again
