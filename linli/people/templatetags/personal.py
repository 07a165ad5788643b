"""Template filters that mask personal data: ``{% load personal %}``."""

from django import template

from linli.people.identity import mask_phone as _mask_phone
from linli.people.identity import redact_text

register = template.Library()


@register.filter
def mask_phone(value: object) -> str:
    """Show a phone number as 138****8000 (anything else unchanged)."""
    text = str(value or "").strip()
    return _mask_phone(text) if text.lstrip("+").isdigit() else text


@register.filter
def redact(text: object) -> str:
    """Free text with the phone and identity numbers in it masked, however they were written."""
    return redact_text(str(text or ""))
