"""Django admin (system admins only): registered API clients and second factors. Keys are
never shown (only a digest is stored; register a client with ``api_client_register``), nor
are TOTP secrets: an admin may delete a lost authenticator, never read one."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin

from linli.accounts.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin[ApiClient]):
    list_display = ("name", "key_prefix", "user", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    fields = ("name", "user", "active", "key_prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # a key is created with api_client_register, which shows it once


admin.site.unregister(Authenticator)  # allauth's admin shows the secret in its data field


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin[Authenticator]):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__username",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = ("user", "type", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # set up by its owner, who proves it with a code

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
