"""Forms of the visits pages. They parse; the rules of a visit live in ``services.visit_log``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from linli.visits.models import VisitKind, VisitTag


class VisitForm(forms.Form):
    """The doorstep form. ``client_key`` makes a double tap (or the phone's queue resending the
    same visit) one visit; ``visited_at`` is the phone's clock at submit time, filled in by
    ``visits-offline.js`` (empty without JavaScript: the server's clock is used)."""

    household = forms.IntegerField(
        label=_("住户"),
        error_messages={
            "required": _("请选择住户"),
            "invalid": _("请选择住户"),
        },
    )
    kind = forms.ChoiceField(
        label=_("走访类型"), choices=VisitKind.choices, initial=VisitKind.KNOCK, widget=forms.RadioSelect
    )
    met_person = forms.IntegerField(label=_("见到的家庭成员"), required=False)
    met_other = forms.CharField(
        label=_("或：见到的其他人"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：邻居王阿姨"), "id": "visit-met-other"}),
    )
    heard = forms.CharField(
        label=_("听到的情况"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "id": "visit-heard", "placeholder": _("居民说了什么、家里情况如何")}),
    )
    photo = forms.FileField(
        label=_("照片(可选)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,.heic", "id": "visit-photo"}),
    )
    needs_help = forms.BooleanField(label=_("需要立即帮助"), required=False)
    not_at_home = forms.BooleanField(label=_("不在家"), required=False)
    refused = forms.BooleanField(label=_("拒绝走访"), required=False)
    tags = forms.MultipleChoiceField(
        label=_("标记"), choices=VisitTag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    policy_topic = forms.CharField(
        label=_("宣讲的政策"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：医保缴费"), "id": "visit-policy-topic"}),
    )
    raise_need = forms.BooleanField(label=_("同时反映诉求"), required=False)
    need_text = forms.CharField(
        label=_("诉求内容"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "id": "visit-need-text", "placeholder": _("例如：楼道灯坏了")}),
    )
    visited_at = forms.CharField(widget=forms.HiddenInput, required=False)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)

    def clean_visited_at(self) -> dt.datetime | None:
        raw = (self.cleaned_data.get("visited_at") or "").strip()
        if not raw:
            return None
        try:
            value = parse_datetime(raw)
        except ValueError:
            value = None
        if value is None:
            raise forms.ValidationError(_("走访时间格式不对"))
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("raise_need") and not (data.get("need_text") or "").strip():
            self.add_error("need_text", _("请写下要反映的诉求"))
        return data
