"""``linli worker``: runs background tasks (django-tasks database backend) and the periodic
sweeps the apps registered (``core.registry.register_periodic``), each re-enqueueing itself;
the heartbeat is the core's own.

The worker outlives its database: when PostgreSQL goes away (a restart, a failover, a night's
maintenance) it logs one line, waits with back-off and goes on when the server is back. A task
that the outage interrupted is put back in the queue and runs again, once; a task left
running by a worker that was killed is put back when the next worker starts. Every task is
safe to run twice (the sweeps' unique guards, the outbox's record of whom it reached).

Whether a task's worker is alive is PostgreSQL's to say: a worker holds a session advisory
lock keyed by its id on a connection of its own (``Liveness``), which the server releases
the moment the process dies and its socket closes. A starting worker puts back every running
task whose worker's lock it can take; a task of a live worker is left alone, however long it
runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from linli.core.outage import is_outage
from linli.core.registry import periodic_tasks
from linli.core.tasks import ensure_scheduled

logger = logging.getLogger("linli.worker")

#: A running task that names no worker, this long after it started, was left by one that died.
STALE_AFTER = dt.timedelta(minutes=15)
#: Namespace (the first key) of the workers' advisory locks.
LIVENESS_LOCK = 0x4C4E5730


class TaskInterrupted(Exception):
    """The database went away while a task ran: the task goes back in the queue."""

    def __init__(self, task_id: Any) -> None:
        super().__init__(str(task_id))
        self.task_id = task_id


def _back_in_queue(**which: Any) -> int:
    """Running tasks put back in the queue (only a running one moves, so never twice)."""
    return DBTaskResult.objects.filter(status="RUNNING", **which).update(status="READY", started_at=None)


def requeue(task_id: Any) -> int:
    """A task the outage cut off, back in the queue."""
    return _back_in_queue(pk=task_id)


class Liveness:
    """A worker's proof of life: a session advisory lock keyed by its id, held on a connection
    of its own (Django's may be closed between tasks) for as long as the process lives."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._conn: Any = None

    def hold(self) -> None:
        """Take the lock (again after an outage: a restarted server has forgotten it)."""
        self.release()
        conn = connection.get_new_connection(connection.get_connection_params())
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LIVENESS_LOCK, self.worker_id])
        self._conn = conn

    def release(self) -> None:
        """Let go of the lock at once, then of the connection. Closing alone would leave the
        lock held until the server's backend has noticed and exited, a few milliseconds in
        which the worker still looks alive (a dying process's lock goes the same way)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a connection the outage already broke
                self._conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LIVENESS_LOCK, self.worker_id])
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def worker_alive(worker_id: str) -> bool:
    """Whether the worker of that id holds its lock: if this session can take it, no one does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LIVENESS_LOCK, worker_id])
        (taken,) = cursor.fetchone()
        if taken:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LIVENESS_LOCK, worker_id])
    return not taken


def requeue_abandoned(*, own_id: str = "", now: dt.datetime | None = None) -> int:
    """Tasks left running by a worker that died, back in the queue: those whose worker no
    longer holds its lock, and those naming no worker that started ``STALE_AFTER`` ago."""
    stale_before = (now or timezone.now()) - STALE_AFTER
    requeued = 0
    running = DBTaskResult.objects.filter(status="RUNNING").values_list("pk", "worker_ids", "started_at")
    for pk, worker_ids, started_at in running:
        owner = worker_ids[-1] if worker_ids else None
        if owner == own_id and own_id:
            continue
        dead = (started_at is not None and started_at < stale_before) if owner is None else not worker_alive(owner)
        if dead:
            requeued += requeue(pk)
    return requeued


def wait_for_database(sleep: Any = time.sleep) -> int:
    """Block until the database answers again, waiting ``settings.WORKER_DATABASE_BACKOFF``
    between attempts (the last wait repeated); returns how many attempts it took."""
    pauses = tuple(settings.WORKER_DATABASE_BACKOFF) or (1.0,)
    attempt = 0
    while True:
        pause = pauses[min(attempt, len(pauses) - 1)]
        attempt += 1
        sleep(pause)
        try:
            connection.close()
        except DatabaseError:
            connection.connection = None
        try:
            connection.ensure_connection()
            return attempt
        except DatabaseError:
            logger.warning("database still unreachable after %s attempts; next try in %.1f s", attempt, pause)


class ResilientWorker(Worker):
    """django-tasks-db's worker, kept alive through database outages."""

    liveness: Liveness | None = None

    def _back(self) -> None:
        """The database is back: take the liveness lock again (the server forgot it)."""
        if self.liveness is not None:
            self.liveness.hold()

    def run(self) -> None:
        while self.running:
            try:
                super().run()
                return
            except TaskInterrupted as exc:
                logger.warning("database lost while a task ran; waiting for it (task %s)", exc.task_id)
                wait_for_database()
                self._back()
                requeue(exc.task_id)
                logger.warning("database back; task %s queued again", exc.task_id)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                logger.warning("database unreachable (%s); the worker waits", type(exc).__name__)
                wait_for_database()
                self._back()
                logger.warning("database back; the worker goes on")
            self.startup_delay = False
            close_old_connections()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run one task as django-tasks-db does, except that a database outage puts the task
        back in the queue instead of recording it as failed."""
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs)
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            db_task_result.set_successful(value)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except BaseException as exc:
            if is_outage(exc):
                raise TaskInterrupted(db_task_result.pk) from exc
            db_task_result.set_failed(exc)
            task_finished.send(sender=type(db_task_result.task.get_backend()), task_result=db_task_result.task_result)
        finally:
            self.running_task = False
            self._run_tasks += 1


class Command(DBWorkerCommand):
    help = "Run the Linli background worker: tasks and periodic sweeps. Ctrl-C stops it."

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        liveness = Liveness(options["worker_id"])
        while True:
            try:
                liveness.hold()
                abandoned = requeue_abandoned(own_id=liveness.worker_id)
                if abandoned:
                    logger.warning("%s task(s) left running by a stopped worker queued again", abandoned)
                for task in periodic_tasks():
                    ensure_scheduled(task)
                break
            except DatabaseError as exc:
                if not is_outage(exc):
                    raise
                logger.warning("database unreachable at start; the worker waits")
                wait_for_database()
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.liveness = liveness
        worker.configure_signals()
        try:
            worker.run()
        finally:
            liveness.release()
