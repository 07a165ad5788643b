"""The notification kernel: every kind the code emits is registered with a message that fits
in two SMS segments in every language; delivery happens after commit, reaches each recipient
once, retries with back-off and gives up; and the needs steps that used to send nothing (a
return asked for, approved or rejected; a transfer) now tell whom they concern."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.http import Http404

from linli.accounts.sms import read_outbox
from linli.core.access import SYSTEM
from linli.core.models import Notification
from linli.core.notify import BACKOFF, deliver, kinds, notify, register_sender
from linli.testing import deliver_notifications

ROOT = Path(__file__).resolve().parents[1] / "linli"
#: Two SMS segments of a concatenated message: 67 characters each in UCS-2 (Chinese), 153 in
#: the GSM alphabet (English).
LIMITS = {"zh-hans": 134, "zh-hant": 134, "en": 306}


def _emitted() -> set[str]:
    """Every kind named by a literal in a call of ``notify`` or the needs' ``notify_need`` in the code."""
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = (
                node.args[0]
                if name == "notify"
                else (node.args[1] if name == "notify_need" and len(node.args) > 1 else None)
            )
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value if name == "notify" else f"needs.{first.value}")
    return found


def test_every_kind_the_code_emits_is_registered() -> None:
    registered = {k.key for k in kinds()}
    emitted = _emitted()
    assert {"needs.return_requested", "needs.transferred", "visits.reminder"} <= emitted  # the reading works
    assert emitted <= registered, sorted(emitted - registered)
    # the return decisions are emitted by their event kind's name
    assert {"needs.return_approved", "needs.return_rejected"} <= registered


@pytest.mark.parametrize("language", sorted(LIMITS))
def test_every_message_fits_in_two_sms_in_every_language(language: str) -> None:
    for kind in kinds():
        text = kind.render(kind.example, language)
        assert "%(" not in text and len(text) <= LIMITS[language], (kind.key, language, len(text), text)
        assert text.startswith(("【邻里】", "【鄰里】", "[Linli]")), (kind.key, text)  # the sender, as SMS rules ask


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_at_once() -> None:
    with pytest.raises(LookupError, match="no notification kind"):
        notify("needs.nothing_like_this", need=1)
    assert not Notification.objects.exists()


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


@pytest.mark.django_db
def test_a_write_that_rolls_back_leaves_nothing_to_send(nw: Any, outbox: None) -> None:
    from django.db import transaction

    from linli.needs.services import need_create

    with pytest.raises(RuntimeError), transaction.atomic():
        need_create(actor=nw.users["resident"], text="楼道灯坏了", place=nw.household_place_a)
        raise RuntimeError("the write fails after the need")
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_silent_steps_now_tell_whom_they_concern(nw: Any, outbox: None) -> None:
    from linli.needs.services import (
        dispatch_return,
        dispatch_return_decide,
        need_accept,
        need_create,
        need_transfer,
        need_whistle,
    )
    from linli.people.models import Person
    from linli.people.services import person_update
    from linli.places.services import place_create

    secretary_phone, liaison_phone = "+8613911110001", "+8613911110002"
    person_update(actor=SYSTEM, person=Person.objects.get(user=nw.users["secretary"]), phone=secretary_phone)
    person_update(actor=SYSTEM, person=Person.objects.get(user=nw.users["department_liaison"]), phone=liaison_phone)
    need = need_create(actor=nw.users["resident"], text="家里停水了", place=nw.household_place_a)
    need_accept(actor=nw.users["grid_worker"], need=need)
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    dispatch_return(actor=nw.users["department_liaison"], dispatch=dispatch, reason="不属于本单位职责")
    dispatch_return_decide(actor=nw.users["secretary"], dispatch=dispatch, approve=False, note="请继续办理")
    dispatch_return(actor=nw.users["department_liaison"], dispatch=dispatch, reason="确实不属于本单位")
    dispatch_return_decide(actor=nw.users["secretary"], dispatch=dispatch, approve=True)
    other = place_create(actor=SYSTEM, parent=nw.grid_a, code="t-a-g1-b2", name="2栋", kind="building")
    need_transfer(actor=nw.users["grid_worker"], need=need, place=other, note="在2栋")
    assert set(deliver_notifications()) == {"sent"}
    sent = read_outbox()
    to = {phone: [m["body"] for m in sent if m["to"] == phone] for phone in (secretary_phone, liaison_phone)}
    assert any("申请退回诉求" in b for b in to[secretary_phone]), to
    assert any("退单申请未获同意" in b for b in to[liaison_phone]) and any(
        "退单申请已同意" in b for b in to[liaison_phone]
    )
    assert any(f"已转至{other.name}" in m["body"] and m["to"] == "+8613800138000" for m in sent)


@pytest.mark.django_db
def test_delivery_retries_with_back_off_reaches_each_once_and_gives_up(nw: Any, outbox: None) -> None:
    from linli.accounts.sms import send_sms
    from linli.needs.services import need_accept, need_create

    need = need_create(actor=nw.users["resident"], text="楼道灯坏了", place=nw.household_place_a)
    deliver_notifications()
    calls: list[str] = []

    def flaky(to: str, body: str) -> None:
        calls.append(to)
        raise OSError("the gateway is down")

    register_sender("sms", flaky)
    try:
        need_accept(actor=nw.users["grid_worker"], need=need)
        row = Notification.objects.get(kind="needs.accepted")
        now = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
        outcomes = [deliver(row.pk, now=now) for _ in range(len(BACKOFF) + 1)]
        row.refresh_from_db()
        assert outcomes[:-1] == ["retry"] * len(BACKOFF) and outcomes[-1] == "failed"
        assert row.status == "failed" and row.attempts == len(BACKOFF) + 1 and "gateway is down" in row.last_error
        assert deliver(row.pk) == "skipped"  # a failed one is left alone
    finally:
        register_sender("sms", send_sms)
    # a notification delivered twice (a task run again) reaches nobody twice
    row = notify("needs.escalated", need=need.pk)
    assert deliver(row.pk) == "sent" and deliver(row.pk) == "skipped"
    assert len([m for m in read_outbox() if "提级办理" in m["body"]]) == 1
    assert calls == ["+8613800138000"] * (len(BACKOFF) + 1)


def test_a_whistle_reaches_the_departments_liaisons_of_that_area_only(nw: Any, outbox: None) -> None:
    """The liaison rule (needs.models.liaison_areas): a liaison of the same department whose
    grant lies elsewhere cannot open the need, and is not texted about it either."""
    from linli.core.access import Role
    from linli.needs.services import need_create, need_whistle
    from linli.people.models import Person
    from linli.people.services import person_update
    from linli.testing import make_user

    near, far = "+8613911110003", "+8613911110004"
    person_update(actor=SYSTEM, person=Person.objects.get(user=nw.users["department_liaison"]), phone=near)
    elsewhere = make_user("liaison_b", Role.LIAISON, nw.community_b, department=nw.department, phone=far)
    need = need_create(actor=nw.users["resident"], text="家里停水了", place=nw.household_place_a)
    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    deliver_notifications()
    reached = {m["to"] for m in read_outbox()}
    assert near in reached and far not in reached
    from linli.needs.selectors import access_need

    with pytest.raises(Http404):
        access_need(elsewhere, need.pk)
