from __future__ import annotations

from django.db.models import QuerySet

from linli.core.access import Actor, get_or_404
from tests.noticeboard.capabilities import NoticeCap
from tests.noticeboard.models import Notice


def notice_list(*, actor: Actor) -> QuerySet[Notice]:
    return Notice.objects.visible(actor, NoticeCap.VIEW_NOTICES).filter(expired=False).select_related("place")


def access_notice(actor: Actor, pk: object) -> Notice:
    return get_or_404(notice_list(actor=actor), pk, "notice")
