from django import forms
from django.utils.translation import gettext_lazy as _

from linli.core.sheets import SheetRefused, check_upload


class PlaceImportForm(forms.Form):
    file = forms.FileField(
        label=_("XLSX 或 CSV 文件"),
        help_text=_("每行一个地点：编码、上级编码、名称、类型、纬度、经度、边界、办公电话(可选)"),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload.name or "", upload.size or 0)
        except SheetRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload
