"""Background jobs of needs: notifications (SMS through the pluggable sender) and the
periodic deadline sweep, which re-enqueues itself (django-tasks has no scheduler)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django_tasks import task

from linli.accounts.sms import send_sms
from linli.core.access import Role
from linli.needs.models import Dispatch, Need, NeedReporter
from linli.needs.rating_links import rating_link_create
from linli.people.models import Membership

_REPORTER_MESSAGES = {
    "submitted": "【邻里】您反映的诉求已收到(编号{pk})，我们会尽快处理。",
    "accepted": "【邻里】您反映的诉求(编号{pk})已受理，正在办理。",
    "reopened": "【邻里】您不满意的诉求(编号{pk})已重新办理。",
    "escalated": "【邻里】您的诉求(编号{pk})已提级办理。",
}


def rating_url(reporter: NeedReporter) -> str:
    """A new single-use link for ``reporter`` to rate the need's current round."""
    token = rating_link_create(reporter=reporter, round_=reporter.need.reopen_count + 1)
    return settings.LINLI_SITE_URL.rstrip("/") + reverse("needs:rate_by_link", kwargs={"token": token})


def _liaison_phones(dispatch: Dispatch) -> list[str]:
    rows = Membership.objects.filter(
        role=Role.LIAISON, department_id=dispatch.department_id, ended_at__isnull=True
    ).values_list("person__phone", flat=True)
    return [p for p in rows if p]


@task()
def notify_need(need_id: int, kind: str, extra: dict[str, Any]) -> int:
    """Send the SMS messages that a step of a need calls for; returns how many were sent."""
    need = Need.objects.filter(pk=need_id).first()
    if need is None:
        return 0
    sent = 0
    reporters = list(need.reporters.exclude(phone=""))
    body = _REPORTER_MESSAGES.get(kind)
    if body and not (kind == "submitted" and need.channel == "api"):
        for rep in reporters:
            send_sms(rep.phone, body.format(pk=need.pk))
            sent += 1
    if kind == "resolved":
        for rep in reporters:
            send_sms(rep.phone, f"【邻里】您反映的诉求(编号{need.pk})已办结，请评价：{rating_url(rep)}")
            sent += 1
    if kind in ("whistled", "due_soon") and extra.get("dispatch"):
        dispatch = Dispatch.objects.select_related("department").filter(pk=extra["dispatch"]).first()
        if dispatch is not None:
            body = (
                f"【邻里】社区吹哨：诉求编号{need.pk}请{dispatch.department.name}报到办理。"
                if kind == "whistled"
                else f"【邻里】诉求编号{need.pk}即将超期，请及时办理。"
            )
            for phone in _liaison_phones(dispatch):
                send_sms(phone, body)
                sent += 1
    return sent
