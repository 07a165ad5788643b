"""API keys of registered clients (Open311 and the triage endpoint).

A key is 32 random bytes shown once at registration; only its SHA-256 digest is stored (the
key has full entropy, so no salt or slow hash is needed). A request names its key with the
``api_key`` parameter, as Open311 GeoReport v2 prescribes, in the query string or the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from linli.accounts.models import ApiClient, User
from linli.core.access import Actor, is_system, scope_for
from linli.core.audit import audit_record
from linli.core.models import AuditEntry

_TOUCH_EVERY = dt.timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_client_register(*, actor: Actor, name: str, user: User, key: str | None = None) -> tuple[ApiClient, str]:
    """Register a client acting as ``user``; returns the client and its key (shown once).
    A chosen ``key`` is allowed only in the demo (``linli-demo-key``)."""
    if not is_system(actor) and not scope_for(actor).everything:
        raise PermissionDenied(_("只有系统管理员可以登记接口客户端"))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("请填写名称")]})
    if key is not None and not settings.LINLI_DEMO:
        raise ValidationError({"key": [_("生产环境的密钥只能随机生成")]})
    key = key or secrets.token_urlsafe(32)
    client = ApiClient.objects.create(name=name, key_prefix=key[:8], key_digest=key_digest(key), user=user)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=client, reason="api client registered")
    return client, key


def api_client_for_key(key: str) -> ApiClient | None:
    if not key or len(key) > 200:
        return None
    client = ApiClient.objects.select_related("user").filter(key_digest=key_digest(key), active=True).first()
    if client is None or not client.user.is_active:
        return None
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > _TOUCH_EVERY:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication by ``api_key`` (query string or form field). Without the parameter
    it stays out of the way, so session users are authenticated by the next class."""

    def authenticate(self, request: Any) -> tuple[User, ApiClient] | None:
        key = request.query_params.get("api_key")
        if key is None and request.method == "POST":
            try:
                data = request.data
            except exceptions.ParseError:  # an unparsable body is reported by the view
                data = {}
            key = data.get("api_key") if hasattr(data, "get") else None
        if key is None:
            return None
        client = api_client_for_key(str(key))
        if client is None:
            raise exceptions.AuthenticationFailed(_("api_key 无效或已停用"))
        return client.user, client

    def authenticate_header(self, request: Any) -> str:
        return 'ApiKey realm="linli"'


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes ``api_key`` (a query or form parameter)."""

    target_class = "linli.accounts.api_keys.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "api_key"}
