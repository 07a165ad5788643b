"""Background jobs of visits: the hourly sweep that reminds carers of their overdue households.
It re-enqueues itself (django-tasks has no scheduler), like the needs deadline sweep."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from linli.core.tasks import schedule_next

SWEEP_SECONDS = 3600


@task()
def sweep_visit_reminders() -> dict[str, int]:
    """Remind carers of overdue households (once a day each, in sending hours); then schedule
    the next sweep."""
    from linli.visits.reminders import reminders_sweep

    reminded = reminders_sweep()
    schedule_next(sweep_visit_reminders, run_after=timezone.now() + dt.timedelta(seconds=SWEEP_SECONDS))
    return {"reminded": reminded}
