"""Django admin (system admins only): registered API clients. Keys are never shown (only a
digest is stored); register a client with ``api_client_register``."""

from __future__ import annotations

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
