"""The working-day calendar as data: the days that differ from Monday–Friday, and the years loaded."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LimitUnit(models.TextChoices):
    WORKDAYS = "workdays", _("工作日")
    HOURS = "hours", _("小时")


class CalendarDay(models.Model):
    """A day whose working status differs from Monday–Friday: a public holiday on a weekday,
    or a make-up working day 调休 on a weekend. Seeded from ``chinese-calendar``, editable and
    importable per year; ``city`` overrides the national calendar (``city`` null)."""

    city = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["city", "date"], nulls_distinct=False, name="calendar_day_once")]
        db_table = "needs_calendarday"  # the table it had in the needs app
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"


class CalendarYear(models.Model):
    """A year whose official calendar has been loaded (national when ``city`` is null).
    Deadlines in a year without one fall back to Monday–Friday, with a visible warning."""

    city = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=60, blank=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("已载入日历的年份")
        verbose_name_plural = _("已载入日历的年份")
        db_table = "needs_calendaryear"  # the table it had in the needs app
        constraints = [
            models.UniqueConstraint(fields=["city", "year"], nulls_distinct=False, name="calendar_year_once")
        ]

    def __str__(self) -> str:
        return f"{self.year} ({self.source})"
