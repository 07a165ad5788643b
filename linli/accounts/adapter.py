"""django-allauth adapters: phone numbers live on ``User.phone``; codes go out by SMS, only to
registered numbers and within the limits of ``core.ratelimit``; failed sign-ins are counted
per address whatever the account (password spraying); staff keep their second factor."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.account.fields import PhoneField
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.accounts import codes
from linli.accounts.models import User
from linli.accounts.sms import send_sms
from linli.core import ratelimit
from linli.people.identity import mask_phone, normalize_phone

logger = logging.getLogger("linli.accounts")


class ChinesePhoneField(PhoneField):
    """Accepts 13800138000, 138-0013-8000, +86 138 0013 8000 … and stores +8613800138000."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["validators"] = []
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"placeholder": _("11位手机号码"), "inputmode": "tel"})

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
        """Every code by SMS (sign-in, re-authentication, a resend, a phone check) counts
        against one more limit per number, whatever path asked for it."""
        if not ratelimit.hit("sms_send_phone", phone).allowed:
            logger.warning("SMS code not sent: too many to one number", extra={"to": mask_phone(phone)})
            return
        send_sms(phone, _("【邻里】您的登录验证码是 %(code)s，5分钟内有效。请勿告诉他人。") % {"code": code})

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        """Nothing is sent to a number nobody registered: the site must not be a way to send
        text messages to anyone. The page answers exactly as for a registered number."""
        logger.info("login code asked for an unregistered number", extra={"to": mask_phone(phone)})

    def pre_login(self, request: Any, user: Any, **kwargs: Any) -> Any:
        """A carer (楼栋长, 党员中心户) signing in with a password alone is sent to sign in with
        an SMS code: the password would open other households' data (unless the carer has set
        up TOTP, which the next step then asks for)."""
        from allauth.account.internal.flows.login import get_authentication_records
        from allauth.account.internal.stagekit import clear_login
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.urls import reverse

        from linli.accounts.middleware import has_totp, needs_possession

        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        records = get_authentication_records(request, user)
        if records and records[-1].get("method") == "password" and needs_possession(user) and not has_totp(user):
            clear_login(request)
            messages.info(request, _("楼栋长和党员中心户请用短信验证码登录。"))
            return redirect(_with_next(request, reverse("account_request_login_code")))
        return None

    def pre_authenticate(self, request: Any, **credentials: Any) -> None:
        """Refuse every sign-in from an address that failed too often within the hour, on any
        accounts (allauth's own limits count per minute and per account)."""
        if not ratelimit.check("login_failed_ip", ratelimit.client_ip(request)).allowed:
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)
        # a carer is sent to the SMS sign-in before the password is checked, so that the answer
        # is the same whether the password was right or wrong
        from linli.accounts.middleware import has_totp, needs_possession

        if credentials.get("phone"):
            user = self.get_user_by_phone(str(credentials["phone"]))
        else:
            login = str(credentials.get("username") or "")
            user = User.objects.filter(username=login).first() if login else None
        if user is not None and needs_possession(user) and not has_totp(user):
            raise forms.ValidationError(_("楼栋长和党员中心户请用短信验证码登录。"), code="use_sms_code")

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


def count_failed_sign_in(sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any) -> None:
    """Count a failed sign-in against its address (``user_login_failed``)."""
    if request is not None:
        ratelimit.hit("login_failed_ip", ratelimit.client_ip(request))


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """Asking for an SMS sign-in code: limited per phone number, per address and for the
    whole site, in the shared counters, whether or not the number is registered (so that the
    answer does not tell which numbers are). These limits alone hold the form (allauth's own
    would refuse with 登录失败次数过多 though nothing failed); a refusal says how long to wait."""

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone")
        if phone:
            verdict = codes.request_hit(phone, context.request)
            if not verdict.allowed:
                raise forms.ValidationError(
                    _("验证码发送太频繁，请 %(wait)s 后再试。") % {"wait": ratelimit.wait_text(verdict.retry_after)},
                    code="too_many_codes",
                )
            self._user = get_adapter().get_user_by_phone(phone)
        return str(phone or "")


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Any) -> bool:
        """Staff keep their TOTP: without it a password alone would open residents' data.
        (Recovery codes may be regenerated; a lost phone is reset by a system admin.)"""
        from linli.accounts.middleware import is_staff_account

        if authenticator.type == authenticator.Type.TOTP and is_staff_account(authenticator.user):
            return False
        return bool(super().can_delete_authenticator(authenticator))


def _with_next(request: Any, url: str) -> str:
    """``url`` carrying on the page the sign-in was for (a QR code's report form, say), when
    that page is on this site."""
    from urllib.parse import urlencode

    from django.utils.http import url_has_allowed_host_and_scheme

    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return f"{url}?{urlencode({'next': wanted})}"
    return url
