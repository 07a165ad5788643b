"""django-allauth adapter: phone numbers live on ``User.phone``; codes go out by SMS."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.sms import send_sms
from linli.people.identity import normalize_phone


class ChinesePhoneField(PhoneField):
    """Accepts 13800138000, 138-0013-8000, +86 138 0013 8000 … and stores +8613800138000."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["validators"] = []
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"placeholder": "138 0013 8000", "inputmode": "tel"})

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return value
        try:
            return normalize_phone(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code="invalid_phone") from exc


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: Any) -> bool:
        # Accounts are created by community staff (or the demo), not by self sign-up.
        return False

    def phone_form_field(self, **kwargs: Any) -> Any:
        return ChinesePhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return normalize_phone(phone)

    def send_verification_code_sms(self, user: Any, phone: str, code: str, **kwargs: Any) -> None:
        send_sms(phone, _("【邻里】您的登录验证码是 %(code)s，5分钟内有效。请勿告诉他人。") % {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        send_sms(phone, _("【邻里】此号码尚未登记。请联系您的网格员或社区办理。"))

    def set_phone(self, user: Any, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: Any) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user: Any, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> Any:
        return User.objects.filter(phone=phone, is_active=True).order_by("pk").first()
