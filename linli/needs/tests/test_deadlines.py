"""The deadline sweep: reminders, one-level-up escalation, exactly once (even when a worker
is killed half-way or two run at once), and the messages the worker sends afterwards."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from linli.accounts.sms import read_outbox
from linli.needs.deadlines import deadlines_sweep
from linli.needs.models import (
    DeadlineAction,
    DeadlineKind,
    EventKind,
    Level,
    Need,
    NeedEvent,
    RatingChannel,
    Status,
)
from linli.needs.rating_links import rating_link_create
from linli.needs.services import need_accept, need_create, need_resolve, need_whistle
from linli.people.models import Person

ROOT = Path(__file__).resolve().parents[3]
#: a Tuesday, so that one working day later is Wednesday whatever the calendar says
T0 = dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def _need(nw: Any, now: dt.datetime = T0, text: str = "楼下路灯不亮了，晚上很黑") -> Need:
    return need_create(actor=nw.users["resident"], text=text, place=nw.household_place_a, now=now)


def _events(need: Need, kind: str) -> list[NeedEvent]:
    return list(NeedEvent.objects.filter(need=need, kind=kind).order_by("at", "id"))


# --- the sweep, in process ---------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_response_escalates_one_level_once(nw: Any) -> None:
    need = _need(nw)
    assert need.level == Level.GRID and need.status == Status.SUBMITTED
    now = need.response_due + dt.timedelta(hours=1)
    result = deadlines_sweep(now=now)
    assert (result.escalated, result.reminded) == (1, 0)
    need.refresh_from_db()
    assert need.level == Level.COMMUNITY and need.status == Status.SUBMITTED
    [overdue] = _events(need, EventKind.OVERDUE)
    assert overdue.data["deadline"] == DeadlineKind.RESPONSE and overdue.department is None
    [escalated] = _events(need, EventKind.ESCALATED)
    assert escalated.data == {"to": Level.COMMUNITY, "why": "overdue:response"}
    assert need.resolution_due > now  # the community gets a fresh deadline
    [action] = DeadlineAction.objects.filter(need=need)
    assert (action.deadline, action.action, action.dispatch_id) == ("response", "escalate", None)
    # the same sweep again: nothing left to do
    again = deadlines_sweep(now=now)
    assert (again.escalated, again.reminded, again.done) == (0, 0, [])
    assert DeadlineAction.objects.filter(need=need).count() == 1
    assert len(_events(need, EventKind.ESCALATED)) == 1


@pytest.mark.django_db
def test_reminder_for_a_deadline_due_within_the_window(nw: Any) -> None:
    need = _need(nw)
    far = _need(nw, now=T0 + dt.timedelta(days=1), text="小区路灯坏了晚上很黑")
    now = need.response_due - dt.timedelta(hours=1)
    assert far.response_due - now > dt.timedelta(hours=4)
    result = deadlines_sweep(now=now, remind_within=dt.timedelta(hours=4))
    assert (result.reminded, result.escalated) == (1, 0)
    [reminded] = _events(need, EventKind.REMINDED)
    assert reminded.data["deadline"] == DeadlineKind.RESPONSE
    assert _events(far, EventKind.REMINDED) == []
    need.refresh_from_db()
    assert need.level == Level.GRID  # a reminder is not an escalation
    assert deadlines_sweep(now=now, remind_within=dt.timedelta(hours=4)).reminded == 0
    # when it does run out, the escalation is a separate action
    later = deadlines_sweep(now=need.response_due + MINUTE)
    assert later.escalated == 1
    assert set(DeadlineAction.objects.filter(need=need).values_list("action", flat=True)) == {"remind", "escalate"}


@pytest.mark.django_db
def test_dispatch_overdue_for_checkin_escalates_naming_the_department(nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department], now=T0)
    now = dispatch.checkin_due + MINUTE
    assert now < dispatch.resolution_due
    result = deadlines_sweep(now=now)
    assert result.done == [(need.pk, dispatch.pk, "checkin", "escalate")]
    [overdue] = _events(need, EventKind.OVERDUE)
    assert overdue.department == nw.department and overdue.data["deadline"] == DeadlineKind.CHECKIN
    need.refresh_from_db()
    assert need.level == Level.COMMUNITY and len(_events(need, EventKind.ESCALATED)) == 1
    assert DeadlineAction.objects.get(need=need).dispatch_id == dispatch.pk
    assert deadlines_sweep(now=now).done == []


@pytest.mark.django_db
def test_repeated_overdue_climbs_to_the_district_and_stops(nw: Any) -> None:
    need = need_accept(actor=nw.users["grid_worker"], need=_need(nw), now=T0)
    levels = []
    for _ in range(4):
        need.refresh_from_db()
        deadlines_sweep(now=need.resolution_due + MINUTE)
        need.refresh_from_db()
        levels.append(need.level)
    assert levels == [Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.DISTRICT]
    assert [e.data["to"] for e in _events(need, EventKind.ESCALATED)] == ["community", "street", "district"]
    # the fourth overdue is recorded, but there is nowhere higher to go
    assert len(_events(need, EventKind.OVERDUE)) == 4
    assert deadlines_sweep(now=need.resolution_due + MINUTE).done == []
    assert need.status == Status.ACCEPTED


# --- exactly once across processes -------------------------------------------------------------


def _sweep_env() -> dict[str, str]:
    """The environment of a sweep in another process that reaches this test's database
    (the worker's own test database under xdist) on the same embedded server."""
    name = str(connection.settings_dict["NAME"])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.config.settings.test", "LINLI_DB_NAME": name}
    if url := env.get("DATABASE_URL"):
        parts = urlsplit(url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Sweeper:
    """``linli sweep-deadlines`` in a subprocess; its action lines arrive on a queue."""

    def __init__(self, pause: float, stderr: Path) -> None:
        self.stderr_path = stderr
        self._stderr = stderr.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "linli.cli", "sweep-deadlines", "--pause-after-each", str(pause)],
            cwd=ROOT,
            env=_sweep_env(),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def first_action(self, timeout: float = 120) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                pytest.fail(f"no action line within {timeout}s: {self.stderr_path.read_text()[-2000:]}")
            if line is None:
                pytest.fail(f"the sweep ended without an action: {self.stderr_path.read_text()[-2000:]}")
            self.seen.append(line)
            if line.startswith(("escalate ", "remind ")):
                return line

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._stderr.close()

    def finish(self, timeout: float = 180) -> list[str]:
        code = self.proc.wait(timeout=timeout)
        self._stderr.close()
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(line)
        assert code == 0, self.stderr_path.read_text()[-2000:]
        return [line for line in self.seen if line.startswith(("escalate ", "remind "))]


def _overdue_needs(nw: Any, n: int) -> list[Need]:
    # reported a month ago and never accepted: only the response deadline is due, long ago
    start = timezone.now() - dt.timedelta(days=30)
    return [_need(nw, now=start + dt.timedelta(minutes=i), text=f"{i + 1}号楼下路灯不亮了") for i in range(n)]


def _assert_exactly_once(needs: list[Need]) -> None:
    for need in needs:
        need.refresh_from_db()
        assert need.level == Level.COMMUNITY, need.pk  # exactly one step up
        actions = DeadlineAction.objects.filter(need=need)
        assert [(a.deadline, a.action) for a in actions] == [("response", "escalate")], need.pk
        assert len(_events(need, EventKind.OVERDUE)) == 1, need.pk
        assert len(_events(need, EventKind.ESCALATED)) == 1, need.pk


@pytest.mark.django_db(transaction=True)
def test_a_killed_sweep_acts_exactly_once(nw: Any, tmp_path: Path) -> None:
    needs = _overdue_needs(nw, 4)
    sweeper = Sweeper(pause=60, stderr=tmp_path / "sweep.err")
    first = sweeper.first_action()
    sweeper.kill()  # SIGKILL while it sleeps after its first committed action
    assert sweeper.proc.returncode == -signal.SIGKILL
    assert re.match(r"escalate response need=\d+ dispatch=-", first)
    done_pk = int(re.search(r"need=(\d+)", first).group(1))  # type: ignore[union-attr]
    assert list(DeadlineAction.objects.values_list("need_id", flat=True)) == [done_pk]
    assert Need.objects.filter(level=Level.COMMUNITY).count() == 1
    # another run picks up the rest, and does not repeat what the killed one committed
    result = deadlines_sweep()
    assert result.escalated == len(needs) - 1
    assert done_pk not in {need_id for need_id, *_ in result.done}
    _assert_exactly_once(needs)
    assert deadlines_sweep().done == []


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_act_exactly_once(nw: Any, tmp_path: Path) -> None:
    needs = _overdue_needs(nw, 6)
    sweepers = [Sweeper(pause=0.2, stderr=tmp_path / f"sweep-{i}.err") for i in range(2)]
    done = [line for s in sweepers for line in s.finish()]
    # between them they did every action, and no action twice
    counts = Counter(int(re.search(r"need=(\d+)", line).group(1)) for line in done)  # type: ignore[union-attr]
    assert counts == Counter({need.pk: 1 for need in needs})
    _assert_exactly_once(needs)


# --- notifications and the rating link ------------------------------------------------------------


def _run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_worker_sends_the_rating_link_and_the_link_closes_the_need(nw: Any, settings: Any, tmp_path: Path) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    need = _need(nw, now=timezone.now())
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    assert read_outbox() == []  # queued, not sent: the worker sends
    _run_worker()
    to_resident = [m["body"] for m in read_outbox() if m["to"] == "+8613800138000"]
    assert any("已收到" in body for body in to_resident)
    [link] = [body for body in to_resident if "请评价" in body]
    path = urlsplit(re.search(r"https?://\S+", link).group(0)).path  # type: ignore[union-attr]
    assert re.fullmatch(r"/r/[^/]+/", path)
    anonymous = Client()
    page = anonymous.get(path)
    assert page.status_code == 200 and 'id="rate-form"' in page.content.decode()
    response = anonymous.post(path, {"resolved": "1", "satisfaction": "satisfied", "comment": "很快"})
    assert response.status_code == 200 and "诉求已办结，谢谢您的评价" in response.content.decode()
    need.refresh_from_db()
    assert need.status == Status.CLOSED
    rating = need.ratings.get()
    assert rating.channel == RatingChannel.SMS and rating.satisfaction == "satisfied" and rating.recorded_by is None
    # the link is spent: it opens nothing more, and nothing more is written
    again = anonymous.post(path, {"resolved": "0", "satisfaction": "unsatisfied"})
    assert again.status_code == 404 and "楼" not in again.content.decode()
    assert anonymous.get(path).status_code == 404
    assert need.ratings.count() == 1


@pytest.mark.django_db
def test_forged_or_tampered_rating_links_are_404(nw: Any, client: Client) -> None:
    need = _need(nw)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡", now=T0 + dt.timedelta(hours=2))
    reporter = need.reporters.get()
    token = rating_link_create(reporter=reporter, round_=1)
    assert client.get(f"/r/{token}/").status_code == 200
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    signed = signing.dumps({"n": need.pk, "r": reporter.pk}, salt="linli.needs.rating")  # the old links' form
    stale_round = rating_link_create(reporter=reporter, round_=2)  # a round the need has not reached
    for bad in ("garbage", tampered, signed, stale_round, "x" * 200):
        assert client.get(f"/r/{bad}/").status_code == 404, bad
        assert client.post(f"/r/{bad}/", {"resolved": "1", "satisfaction": "satisfied"}).status_code == 404
    need.refresh_from_db()
    assert need.status == Status.RESOLVED and need.ratings.count() == 0


@pytest.mark.django_db(transaction=True)
def test_whistle_texts_the_liaison_who_has_a_phone(nw: Any, settings: Any, tmp_path: Path) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    liaison_phone = "+8613900001111"
    Person.objects.filter(user=nw.users["department_liaison"]).update(phone=liaison_phone)
    need = _need(nw, now=timezone.now(), text="家里停水了")
    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department, nw.power])
    _run_worker()
    to_liaison = [m["body"] for m in read_outbox() if m["to"] == liaison_phone]
    assert to_liaison == [f"【邻里】社区吹哨：诉求编号{need.pk}请{nw.department.name}报到办理。"]
    # the power department has no liaison: nobody else was texted about the whistle
    assert [m for m in read_outbox() if "社区吹哨" in m["body"] and m["to"] != liaison_phone] == []
