from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from tests.noticeboard.services import notices_expire

SWEEP_SECONDS = 3600


@task()
def expire_notices() -> int:
    """Take expired notices down, then schedule the next sweep."""
    expired = notices_expire()
    expire_notices.using(run_after=timezone.now() + dt.timedelta(seconds=SWEEP_SECONDS)).enqueue()
    return expired
