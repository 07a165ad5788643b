"""Template helpers of the coverage and care pages: the status badge, rates and the labels of
vulnerability marks."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from linli.people.models import Vulnerability
from linli.visits.models import POLICY_TARGETS, VisitTag

register = template.Library()

#: A household's coverage status: its label and colour (green ok/none, amber due soon, red
#: overdue, grey never).
STATUS_LABELS: dict[str, Any] = {
    "never": _("从未走访"),
    "overdue": _("已超期"),
    "due_soon": _("即将到期"),
    "ok": _("按期"),
    "none": _("无要求"),
}
STATUS_CSS = {"never": "never", "overdue": "overdue", "due_soon": "soon", "ok": "ok", "none": "ok"}
_TARGETS = dict(POLICY_TARGETS)


@register.filter
def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@register.filter
def status_css(status: str) -> str:
    return STATUS_CSS.get(status, "")


@register.simple_tag
def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>', STATUS_CSS.get(status, ""), status, status_label(status)
    )


@register.filter
def rate(value: float | None) -> str:
    """0.875 → "87.5%"; an undefined rate (no households) is a dash."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def vuln_labels(codes: Any) -> list[str]:
    return [str(Vulnerability(c).label) for c in codes or () if c in Vulnerability.values]


@register.filter
def target_label(target: str) -> str:
    return str(_TARGETS.get(target, target))


@register.filter
def tag_labels(tags: Any) -> list[str]:
    return [str(VisitTag(t).label) for t in tags or () if t in VisitTag.values]
