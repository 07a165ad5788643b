"""Forms of the needs pages. Validation of content lives in the services; these parse."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.needs.models import Satisfaction, Urgency


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,.heic"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class NeedForm(forms.Form):
    text = forms.CharField(
        label=_("遇到了什么问题？"),
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("例如：3栋楼下路灯坏了，晚上很黑"), "id": "need-text"}
        ),
    )
    place = forms.CharField(label=_("问题在哪里？"), max_length=64, required=False)
    # a point tapped on the community's sketch map, or the phone's own position (WGS-84);
    # kept only when the place chosen is the community (a road, a square), not a home
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    category = forms.CharField(required=False, widget=forms.HiddenInput)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=forms.RadioSelect
    )
    photos = PhotosField(label=_("照片(可选)"), required=False)
    on_behalf_name = forms.CharField(label=_("代居民反映：姓名"), max_length=60, required=False)
    on_behalf_phone = forms.CharField(label=_("代居民反映：电话"), max_length=32, required=False)
    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lng") is None):
            data["lat"] = data["lng"] = None  # half a point says nothing
        return data


class RateForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("问题解决了吗？"),
        choices=[("1", _("已解决")), ("0", _("未解决"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(label=_("您满意吗？"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见(可选)"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
