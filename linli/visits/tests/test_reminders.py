"""Reminders to carers of overdue households: once per carer per local day, even when two sweeps
run at the same time; only in sending hours; not when nothing is overdue; and the hourly sweep
that the worker schedules."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from linli.accounts.sms import read_outbox
from linli.core.access import SYSTEM
from linli.core.tasks import ensure_scheduled
from linli.people.models import Person
from linli.testing import deliver_notifications
from linli.visits.models import VisitReminder
from linli.visits.reminders import reminder_text, reminders_sweep
from linli.visits.services import visit_log
from linli.visits.tasks import sweep_visit_reminders

PHONE = "+8613912340001"
H = dt.timedelta(hours=1)


@pytest.fixture
def outbox(settings: Any, tmp_path: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


@pytest.fixture
def carer(vw: Any, outbox: None) -> Person:
    """The central household of community A, with a phone, caring for household_a (never
    visited, and its head lives alone: a vulnerable household)."""
    person: Person = vw.carer
    person.phone = PHONE
    person.save(update_fields=["phone"])
    return person


def to_carer() -> list[str]:
    deliver_notifications()  # what the worker sends once the sweep's transactions commit
    return [m["body"] for m in read_outbox() if m["to"] == PHONE]


@pytest.mark.django_db
def test_an_overdue_carer_is_reminded_once_a_day(vw: Any, carer: Person) -> None:
    now = vw.now  # 18:00 in Shanghai
    assert reminders_sweep(now=now) == 1
    assert to_carer() == ["【邻里】您包保的1户已到走访时间(其中1户为困难户)，请尽快上门走访。"]
    assert reminders_sweep(now=now + 30 * dt.timedelta(minutes=1)) == 0  # the same day: nothing more
    assert len(to_carer()) == 1
    reminder = VisitReminder.objects.get()
    assert reminder.carer == carer and reminder.day == dt.date(2026, 6, 10) and reminder.overdue == 1
    # the next day, still overdue: reminded again
    assert reminders_sweep(now=now + 16 * H) == 1  # 10:00 on 11 June in Shanghai
    assert len(to_carer()) == 2 and VisitReminder.objects.count() == 2
    # nobody else got anything
    assert [m for m in read_outbox() if m["to"] != PHONE] == []


@pytest.mark.django_db
@pytest.mark.parametrize("local", ["08:59", "20:00", "23:30", "03:00"])
def test_nobody_is_reminded_outside_sending_hours(vw: Any, carer: Person, local: str) -> None:
    hour, minute = map(int, local.split(":"))
    at = dt.datetime(2026, 6, 10, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert reminders_sweep(now=at) == 0
    assert read_outbox() == [] and not VisitReminder.objects.exists()


@pytest.mark.django_db
def test_no_reminder_when_nothing_is_overdue(vw: Any, carer: Person) -> None:
    visit_log(actor=vw.users["central_household"], household=vw.household_a, kind="knock", now=vw.now)
    assert reminders_sweep(now=vw.now + H) == 0
    assert read_outbox() == [] and not VisitReminder.objects.exists()
    # eight days later the weekly visit of the elderly living alone is overdue again
    assert reminders_sweep(now=vw.now + dt.timedelta(days=8)) == 1
    assert to_carer() == [reminder_text(1, 1)]


@pytest.mark.django_db
def test_a_knock_on_a_closed_door_does_not_silence_the_reminder(vw: Any, carer: Person) -> None:
    visit_log(actor=vw.users["central_household"], household=vw.household_a, kind="knock", not_at_home=True, now=vw.now)
    assert reminders_sweep(now=vw.now + H) == 1


@pytest.mark.django_db
def test_a_carer_without_a_phone_counts_but_gets_nothing(vw: Any, outbox: None) -> None:
    from linli.people.services import person_update

    vw.carer = person_update(actor=SYSTEM, person=vw.carer, phone="")
    assert vw.carer.phone == ""
    assert reminders_sweep(now=vw.now) == 1
    assert read_outbox() == []
    assert VisitReminder.objects.filter(carer=vw.carer).exists()
    assert reminders_sweep(now=vw.now) == 0


def test_the_text_leaves_out_vulnerable_households_when_there_are_none() -> None:
    assert reminder_text(3, 0) == "【邻里】您包保的3户已到走访时间，请尽快上门走访。"
    assert reminder_text(3, 2) == "【邻里】您包保的3户已到走访时间(其中2户为困难户)，请尽快上门走访。"


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_send_once(vw: Any, carer: Person, monkeypatch: Any) -> None:
    from linli.visits import reminders

    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []
    claims: list[bool] = []
    real_claim, real_notify = reminders._claim, reminders.notify

    def claim(*args: Any) -> bool:
        claims.append(real_claim(*args))
        return claims[-1]

    def slow_notify(kind: str, **payload: Any) -> Any:
        time.sleep(1)  # the first sweep holds its transaction open while the second one claims
        return real_notify(kind, **payload)

    monkeypatch.setattr(reminders, "_claim", claim)
    monkeypatch.setattr(reminders, "notify", slow_notify)

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(reminders_sweep(now=vw.now))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert sorted(claims) == [False, True]  # both reached the insert: the unique row decided
    assert len(to_carer()) == 1 and VisitReminder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_schedules_the_sweep_and_it_reschedules_itself() -> None:
    from django_tasks_db.models import DBTaskResult

    ensure_scheduled(sweep_visit_reminders)
    ensure_scheduled(sweep_visit_reminders)  # idempotent: one waiting sweep, not two
    waiting = DBTaskResult.objects.filter(task_path=sweep_visit_reminders.module_path, status="READY")
    assert waiting.count() == 1
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    done = DBTaskResult.objects.filter(task_path=sweep_visit_reminders.module_path, status="SUCCESSFUL")
    assert done.count() == 1
    later = DBTaskResult.objects.filter(task_path=sweep_visit_reminders.module_path, status="READY").get()
    assert later.run_after is not None and later.run_after > timezone.now() + dt.timedelta(minutes=50)
