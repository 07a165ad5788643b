"""Staff sessions: the second factor on every path, and lifetimes of a working day.

A staff account (a staff role anywhere, ``is_staff`` or a superuser) may use a session only
when that session passed the second factor, whatever made it: allauth's sign-in (password or
SMS code, then TOTP), the admin site (which signs in through allauth too), or anything added
later. The proof is allauth's record of the session's authentication steps, which holds an
``mfa`` step only after a TOTP or recovery code was checked (or a first TOTP was set up).

- A staff session without that step whose account has TOTP is ended at once: it came in by
  another door. One whose account has no TOTP yet may only set one up (and sign out).
- A staff session ends after ``STAFF_SESSION_MAX_SECONDS`` from sign-in and after
  ``STAFF_SESSION_IDLE_SECONDS`` without a request; its cookie expires when it goes idle.
- A carer's session (a role in ``POSSESSION_ROLES``) must have been opened with something the
  carer holds: an SMS code or a TOTP code, not a password alone.
- Residents' sessions last ``SESSION_COOKIE_AGE`` (they see only their own household).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.core.access import POSSESSION_ROLES, scope_for
from linli.core.errors import error_response

#: What a staff account that has no second factor yet may reach: setting one up.
_SETUP_URL_NAMES = {
    "mfa_activate_totp",
    "mfa_index",
    "mfa_view_recovery_codes",
    "account_logout",
    "account_reauthenticate",
    "set_language",
    "javascript_catalog",
    "large_type",
    "healthz",
}
_SEEN = "linli_seen"
_TOUCH_EVERY = 60  # seconds: the idle clock is kept to the minute, not written on every request


def is_staff_account(user: Any) -> bool:
    return bool(user.is_superuser or user.is_staff or scope_for(user).is_staff_role)


def passed_second_factor(request: HttpRequest, user: Any) -> bool:
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, user))


def needs_possession(user: Any) -> bool:
    """A carer: sees other households' data, so a password alone does not open it."""
    return bool(scope_for(user).roles() & POSSESSION_ROLES)


def proved_possession(request: HttpRequest, user: Any) -> bool:
    return any(r.get("method") in ("code", "mfa") for r in get_authentication_records(request, user))


def has_totp(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    cached = getattr(user, "_linli_has_totp", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._linli_has_totp = cached
    return bool(cached)


def record_totp_set_up(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """A TOTP set up in this session proves the second factor for it (allauth checked a code
    from it before saving it). Connected to ``post_save`` of allauth's ``Authenticator``: it
    runs inside the activating request (allauth keeps that request in its context), before the
    session is saved."""
    from allauth.core import context

    request = getattr(context, "request", None)
    if not created or instance.type != "totp" or request is None:
        return
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk == instance.user_id:
        record_authentication(request, user, "mfa", type="totp", activated=True)


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if not is_staff_account(user):
            if needs_possession(user) and not proved_possession(request, user):
                return self._end(
                    request, _("楼栋长和党员中心户请用短信验证码登录。"), login="account_request_login_code"
                )
            return self.get_response(request)
        if not passed_second_factor(request, user):
            if has_totp(user):
                return self._end(request, _("请重新登录并输入动态验证码。"))
            if _resolve(request.path) not in _SETUP_URL_NAMES:
                if request.path.startswith("/api/"):
                    return error_response(request, 403, _("需要先设置两步验证。"))
                return redirect("mfa_activate_totp")
            return self.get_response(request)
        now = time.time()
        records = get_authentication_records(request, user)
        signed_in = min((float(r.get("at", now)) for r in records), default=now)
        seen = float(request.session.get(_SEEN, signed_in))
        if now - signed_in > settings.STAFF_SESSION_MAX_SECONDS:
            return self._end(request, _("工作人员登录已超过一个工作日，请重新登录。"))
        if now - seen > settings.STAFF_SESSION_IDLE_SECONDS:
            return self._end(request, _("您已较长时间未操作，为保护居民信息已自动退出，请重新登录。"))
        if now - seen >= _TOUCH_EVERY or _SEEN not in request.session:
            request.session[_SEEN] = now
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)

    @staticmethod
    def _end(request: HttpRequest, message: str, *, login: str = "account_login") -> HttpResponse:
        path = request.get_full_path()
        logout(request)
        if request.path.startswith("/api/"):
            return error_response(request, 401, message)
        from django.contrib import messages

        messages.warning(request, message)
        return redirect(f"{reverse(login)}?{urlencode({'next': path})}")


def _resolve(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).view_name
    except Resolver404:
        return None
