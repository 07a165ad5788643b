"""Django admin (system admins only) for the data that is per city: the dispatch catalogue,
the classifier versions (the holiday calendar is the workdays app's). Needs themselves are worked in the app."""

from __future__ import annotations

from django.contrib import admin

from linli.needs.models import Category, TriageModel


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = (
        "code",
        "name",
        "name_en",
        "city",
        "level",
        "department_kind",
        "resolution_limit",
        "resolution_unit",
        "active",
    )
    list_filter = ("level", "active", "city")
    search_fields = ("code", "name", "name_en")


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin[TriageModel]):
    list_display = ("version", "trained_at", "examples", "accuracy", "active", "note")
    exclude = ("blob",)
    readonly_fields = ("version", "trained_at", "examples", "labels", "accuracy", "note")
