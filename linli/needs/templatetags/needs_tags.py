"""Template helpers of the needs pages: the countdown badge and masked text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from linli.needs import workflow
from linli.needs.models import OPEN_STATUSES, DeadlineKind, Dispatch, Level, NeedEvent, Urgency
from linli.people.identity import mask_name, redact_text

register = template.Library()


def _span(delta: dt.timedelta) -> str:
    seconds = abs(int(delta.total_seconds()))
    if seconds >= 86400:
        return _("%(n)s天") % {"n": seconds // 86400}
    if seconds >= 3600:
        return _("%(n)s小时") % {"n": seconds // 3600}
    return _("%(n)s分钟") % {"n": max(1, seconds // 60)}


@register.simple_tag
def countdown(due: dt.datetime | None, status: str = "", now: dt.datetime | None = None) -> SafeString | str:
    """剩2天 / 超期3小时, coloured; nothing for finished needs."""
    if due is None or (status and status not in OPEN_STATUSES and status not in ("whistled", "checked_in")):
        return ""
    now = now or timezone.now()
    left = due - now
    if left.total_seconds() < 0:
        return format_html(
            '<span class="badge overdue" title="{}">{}</span>', due.isoformat(), _("超期%(t)s") % {"t": _span(left)}
        )
    css = "badge soon" if left < dt.timedelta(hours=24) else "badge"
    return format_html('<span class="{}" title="{}">{}</span>', css, due.isoformat(), _("剩%(t)s") % {"t": _span(left)})


@register.filter
def redact(text: Any) -> str:
    return redact_text(str(text or ""))


@register.filter(name="mask_name")
def mask_name_filter(name: Any) -> str:
    return mask_name(str(name or ""))


@register.filter
def dispatch_verbs(dispatch: Dispatch, actor: Any) -> frozenset[str]:
    """The verbs ``actor`` may take on ``dispatch`` now (``needs.workflow``): its buttons."""
    return workflow.dispatch_verbs(actor, dispatch)


@register.filter
def need_verb(verb: str) -> Any:
    """The label of a need's verb, from the table."""
    return workflow.NEED[verb].label


@register.filter
def dispatch_verb(verb: str) -> Any:
    """The label of a dispatch's verb, from the table."""
    return workflow.DISPATCH[verb].label


def _urgency_label(value: Any) -> str:
    return str(Urgency(value).label) if value in Urgency.values else str(value or "")


@register.filter
def urgency_change(event: NeedEvent) -> str:
    """What an urgency change did: 一般 → 特急, and the deadline it set."""
    data = event.data or {}
    text = _("%(before)s → %(after)s") % {
        "before": _urgency_label(data.get("from")),
        "after": _urgency_label(data.get("to")),
    }
    due = parse_datetime(str(data.get("resolution_due") or ""))
    if due is not None:
        text += _("，办结时限改为 %(due)s") % {"due": date_format(timezone.localtime(due), "m-d H:i")}
    return text


def _deadline_label(value: Any) -> str:
    return str(DeadlineKind(value).label) if value in DeadlineKind.values else ""


@register.filter
def event_explained(event: NeedEvent) -> str:
    """A plain line that says what an overdue or escalation step means for this need: which
    deadline passed, which level took it over and why."""
    data = event.data or {}
    if event.kind == "overdue":
        return _("已过%(deadline)s时限还没办好，会提醒负责人并交给上一级。") % {
            "deadline": _deadline_label(data.get("deadline"))
        }
    if event.kind == "escalated":
        to = str(Level(data["to"]).label) if data.get("to") in Level.values else ""
        why = str(data.get("why") or "")
        if why == "unsatisfied":
            reason = _("评价为不满意")
        elif why.startswith("overdue:"):
            reason = _("超过%(deadline)s时限") % {"deadline": _deadline_label(why.partition(":")[2])}
        else:
            reason = ""
        if reason:
            return _("交给上一级（%(level)s）办理：%(reason)s") % {"level": to, "reason": reason}
        return _("交给上一级（%(level)s）办理") % {"level": to}
    return ""
