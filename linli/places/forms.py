from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PlaceImportForm(forms.Form):
    file = forms.FileField(
        label=_("XLSX 或 CSV 文件"), help_text=_("每行一个地点：编码、上级编码、名称、类型、纬度、经度、边界")
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("文件过大"))
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("只支持 .xlsx 或 .csv 文件"))
        return upload
