"""Staff roles must have a TOTP second factor before they can use the site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from linli.people.permissions import scope_for

_OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz", "/prefs/", "/favicon")


class RequireStaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and scope_for(user).is_staff_role
            and not _has_totp(user)
        ):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {"detail": "需要先设置两步验证 / Set up two-factor authentication first"}, status=403
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_totp(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    cached = getattr(user, "_linli_has_totp", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._linli_has_totp = cached
    return bool(cached)
