"""Large spreadsheet imports run by the worker, with a progress page (``ImportJob``).

An app registers an importer for a kind of file from its ``AppConfig.ready``:
``register_importer("places", fn)``, where ``fn(*, actor, data, filename, params, progress)``
writes everything or nothing and returns what it counted (``{"created": 3, …}``), raising
``django.core.exceptions.ValidationError`` with one message per bad row. A page that takes an
upload calls ``import_or_queue``: a small file is imported in the request as before; one of
more than ``IMPORT_SYNC_ROWS`` rows becomes a job for the worker, and the page sends its
reader to the job's progress page (``core:import_job``). Spreadsheet bombs are refused first,
in the request (``core.sheets``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from linli.core.access import Actor, user_of
from linli.core.models import ImportJob
from linli.core.sheets import SheetRefused, check_sheet, count_rows

#: How many row errors a job keeps to show.
MAX_ERRORS = 200


class Importer(Protocol):
    def __call__(
        self, *, actor: Actor, data: bytes, filename: str, params: dict[str, Any], progress: Callable[..., None]
    ) -> dict[str, int]: ...


_IMPORTERS: dict[str, Importer] = {}


def register_importer(kind: str, importer: Importer) -> None:
    _IMPORTERS[kind] = importer


@dataclass
class Queued:
    job: ImportJob


def import_or_queue(
    *, actor: Actor, kind: str, data: bytes, filename: str, params: dict[str, Any] | None = None
) -> dict[str, int] | Queued:
    """Import now (small files: the counts) or hand the file to the worker (a ``Queued`` job).
    Raises ``ValidationError`` for a refused or bad file."""
    params = params or {}
    try:
        check_sheet(data, filename)
        rows = count_rows(data, filename, up_to=settings.IMPORT_SYNC_ROWS + 2)
    except SheetRefused as exc:
        raise ValidationError(str(exc)) from exc
    account = user_of(actor)
    # the header, then the rows; the system (a command) imports in its own process
    if rows <= settings.IMPORT_SYNC_ROWS + 1 or account is None:
        return _IMPORTERS[kind](actor=actor, data=data, filename=filename, params=params, progress=_ignore)
    with transaction.atomic():
        job = ImportJob.objects.create(kind=kind, actor=account, filename=filename[:200], params=params, data=data)
        run_import.enqueue(job.pk)
    return Queued(job)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


class _JobProgress:
    """Writes a job's progress at most once a second (and at each new phase). Updates made
    inside the importer's own transaction show once it commits: the writing phase shows as
    such, without a count."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.last = 0.0
        self.phase = ""

    def __call__(self, done: int, total: int, phase: str = "writing") -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < 1.0:
            return
        self.last, self.phase = now, phase
        if connection.in_atomic_block and phase == "writing":
            return
        ImportJob.objects.filter(pk=self.job.pk).update(phase=phase, done=done, total=total)


@task()
def run_import(job_id: int) -> str:
    """The worker's side of a queued import."""
    return import_job_run(job_id)


def import_job_run(job_id: int) -> str:
    """Run a queued job once (the worker's task); a job already started or finished is left
    alone, so a task delivered twice imports once."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, phase="reading"
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    importer = _IMPORTERS.get(job.kind)
    fields: dict[str, Any] = {"finished_at": timezone.now(), "data": b""}
    try:
        if importer is None:
            raise ValidationError(_("未知的导入类型 %(kind)s") % {"kind": job.kind})
        counts = importer(
            actor=job.actor, data=bytes(job.data), filename=job.filename, params=job.params, progress=_JobProgress(job)
        )
    except ValidationError as exc:
        messages = [str(m) for m in exc.messages]
        fields.update(status=ImportJob.Status.FAILED, errors=messages[:MAX_ERRORS], result={"errors": len(messages)})
    except Exception as exc:  # a bug: the reader sees the job failed, the log has the rest
        fields.update(status=ImportJob.Status.FAILED, errors=[_("导入出错：%(error)s") % {"error": type(exc).__name__}])
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        raise
    else:
        fields.update(status=ImportJob.Status.DONE, result=counts)
    fields["finished_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**fields, phase="")
    return str(fields["status"])


def access_import_job(actor: Actor, job_id: int | str) -> ImportJob:
    """A job of the actor's own (a job names a file someone uploaded: nobody else's business)."""
    try:
        key = int(job_id)
    except (TypeError, ValueError) as exc:
        raise Http404("import not found") from exc
    job = ImportJob.objects.defer("data").filter(pk=key, actor_id=getattr(actor, "pk", None)).first()
    if job is None:
        raise Http404("import not found")
    return job
