"""Background jobs of deliberation: the sweep that closes votes whose closing time has passed
(it re-enqueues itself, as django-tasks has no scheduler, like the visits reminders)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from linli.core.tasks import schedule_next

VOTE_SWEEP_SECONDS = 300


@task()
def sweep_due_votes() -> dict[str, int]:
    """Close and count the votes past their closing time; then schedule the next sweep."""
    from linli.deliberation.services.votes import close_due_votes

    closed = close_due_votes()
    schedule_next(sweep_due_votes, run_after=timezone.now() + dt.timedelta(seconds=VOTE_SWEEP_SECONDS))
    return {"closed": closed}
