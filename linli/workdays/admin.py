"""The holiday calendar in the admin (system administrators)."""

from django.contrib import admin

from linli.workdays.models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ("date", "is_workday", "name", "city")
    list_filter = ("is_workday", "city")
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin[CalendarYear]):
    list_display = ("year", "city", "source", "loaded_at")
