"""Deliberation's periodic sweeps, each a django-tasks task that schedules its next run: offer
topics of recurring needs, remind invitees of tomorrow's meetings, close votes past their time."""

from linli.deliberation.tasks.meetings import sweep_meeting_reminders
from linli.deliberation.tasks.topics import sweep_recurring_needs
from linli.deliberation.tasks.votes import sweep_due_votes

PERIODIC = [sweep_recurring_needs, sweep_meeting_reminders, sweep_due_votes]
