"""The recurring-needs sweep (每月一题): once a day it offers the secretaries the topics that
piles of needs make (``services.topics.offer_recurring_topics``), then schedules its next run
(django-tasks has no scheduler), like the visits' reminder sweep."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from linli.core.tasks import schedule_next

SWEEP_SECONDS = 6 * 3600


@task()
def sweep_recurring_needs() -> dict[str, int]:
    """Offer topics of recurring needs; then schedule the next sweep."""
    from linli.deliberation.services.topics import offer_recurring_topics

    offered = offer_recurring_topics()
    schedule_next(sweep_recurring_needs, run_after=timezone.now() + dt.timedelta(seconds=SWEEP_SECONDS))
    return {"offered": offered}
