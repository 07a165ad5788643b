"""Django admin (system admins only) for the data that is per city: the dispatch catalogue,
the holiday calendar and the classifier versions. Needs themselves are worked in the app."""

from __future__ import annotations

from django.contrib import admin

from linli.needs.models import CalendarDay, CalendarYear, Category, TriageModel


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


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ("date", "is_workday", "name", "city")
    list_filter = ("is_workday", "city")
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin[CalendarYear]):
    list_display = ("year", "city", "source", "loaded_at")


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin[TriageModel]):
    list_display = ("version", "trained_at", "examples", "accuracy", "active", "note")
    exclude = ("blob",)
    readonly_fields = ("version", "trained_at", "examples", "labels", "accuracy", "note")
