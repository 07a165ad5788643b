from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, user_of
from linli.core.notify import notify
from tests.noticeboard.capabilities import NoticeCap
from tests.noticeboard.models import Notice


@transaction.atomic
def notice_post(*, actor: Actor, place: Any, title: str, body: str, days: int | None = None) -> Notice:
    require(actor, NoticeCap.POST_NOTICES, place)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValidationError(_("公告要有标题和内容。"))
    expires = timezone.now() + dt.timedelta(days=days) if days else None
    notice = Notice.objects.create(place=place, title=title, body=body, posted_by=user_of(actor), expires_at=expires)
    notify("noticeboard.posted", notice=notice.pk)
    return notice


@transaction.atomic
def notices_expire(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return Notice.objects.filter(expired=False, expires_at__lte=now).update(expired=True)
