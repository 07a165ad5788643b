"""The SMS sign-in's confirmation page, with a resend: allauth's page, whose resend is held to
the limits of the codes sent to one number (``accounts.codes``). The page counts down the
real wait the limits give; without JavaScript the server refuses an early resend and says
how long to wait."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.views import ConfirmLoginCodeView as AllauthConfirmLoginCodeView
from allauth.core.exceptions import RateLimited
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts import codes
from linli.core.ratelimit import wait_text


class ConfirmLoginCodeView(AllauthConfirmLoginCodeView):  # type: ignore[misc]
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("action") == "resend" and not self._process.can_resend:
            # allauth would take it for a code, and count a wrong one
            messages.error(request, _("重新发送的次数已用完。请取消，再重新获取验证码。"))
            return self._back()
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def _resend_form_valid(self, form: Any) -> HttpResponse:
        phone = str(self._process.state.get("phone") or "")
        verdict = codes.resend_hit(phone)
        if not verdict.allowed:
            messages.error(
                self.request,
                _("验证码刚发过，请 %(wait)s 后再重新发送。") % {"wait": wait_text(verdict.retry_after)},
            )
            return self._back()
        try:
            self._process.state["at"] = time.time()  # the new code is valid for the whole timeout
            self._process.resend()
        except RateLimited:
            messages.error(self.request, _("验证码发送太频繁，请稍后再试。"))
        else:
            messages.success(self.request, _("已重新发送验证码，请用最新收到的那一条。"))
        return self._back()

    def _back(self) -> HttpResponse:
        return HttpResponseRedirect(self.passthrough_next_url(reverse("account_confirm_login_code")))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        phone = str(self._process.state.get("phone") or "")
        context["resend_wait"] = codes.wait(phone) if phone else 0
        return context


confirm_login_code = ConfirmLoginCodeView.as_view()
