from django import forms
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class UnmaskForm(forms.Form):
    field = forms.ChoiceField(choices=[("phone", _("手机号码")), ("id_number", _("证件号码"))])
    reason = forms.CharField(
        label=_("查看理由"),
        min_length=2,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("例如：电话回访")}),
    )


class GrantForm(forms.Form):
    person = forms.IntegerField(label=_("居民编号"), min_value=1)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    department = forms.IntegerField(label=_("部门编号"), required=False, min_value=1)
    reason = forms.CharField(label=_("理由"), max_length=500, required=False)
