"""Meetings: planning with topics on the agenda, invitations by place, role and household
(inviting again adds only the new), replies, the calendar file, reminders the day before
(once), check-in at the door (QR and staff tick, within the window, twice counting once) and
the live count against the quorum."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from linli.accounts.sms import read_outbox
from linli.core.access import SYSTEM, Role
from linli.core.models import Notification
from linli.deliberation.models import Attendance, CheckinMethod, Invitation, MeetingStatus, Rsvp, TopicStatus
from linli.deliberation.selectors import meetings as sel
from linli.deliberation.services import meetings as services
from linli.deliberation.tasks.meetings import meeting_reminders_sweep
from linli.deliberation.tests.meetings_world import WANG_PHONE, add_people, local, plan, topic
from linli.testing import deliver_notifications, sign_in

pytestmark = pytest.mark.django_db
RESIDENT_PHONE = "+8613800138000"  # the world's resident of household A


@pytest.fixture
def outbox(settings: Any, tmp_path: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


@pytest.fixture
def mw(world: Any, outbox: None) -> Any:
    return add_people(world)


def invitees(meeting: Any) -> set[int]:
    return set(meeting.invitations.values_list("person_id", flat=True))


# --- planning -------------------------------------------------------------------------------------


def test_planning_puts_topics_on_the_agenda_and_cancelling_takes_them_off(mw: Any) -> None:
    drains = topic(mw)
    meeting = plan(mw, agenda=["社区公约修订"], topics=[drains])
    assert [(a.title, a.topic_id) for a in meeting.agenda.all()] == [(drains.title, drains.pk), ("社区公约修订", None)]
    drains.refresh_from_db()
    assert drains.status == TopicStatus.SCHEDULED
    services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    Notification.objects.all().delete()
    services.meeting_cancel(actor=mw.secretary, meeting=meeting, reason="台风")
    meeting.refresh_from_db()
    drains.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED and drains.status == TopicStatus.LISTED
    assert list(Notification.objects.values_list("kind", flat=True)) == ["deliberation.meeting_cancelled"]
    deliver_notifications()
    bodies = {m["to"]: m["body"] for m in read_outbox()}
    assert set(bodies) == {RESIDENT_PHONE, WANG_PHONE} and "已取消" in bodies[WANG_PHONE]


def test_a_topic_of_another_place_or_a_bad_time_is_refused(mw: Any) -> None:
    with pytest.raises(ValidationError, match="不在本次会议的范围内"):
        plan(mw, topics=[topic(mw, "b")])
    start = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="结束时间须晚于开始时间"):
        plan(mw, starts_at=start, hours=0)
    with pytest.raises(PermissionDenied):
        services.meeting_create(
            actor=mw.users["grid_worker"],
            place=mw.community_a,
            kind="bench",
            title="x",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            venue="y",
        )


def test_a_change_of_time_is_told_and_the_calendar_sequence_goes_up(mw: Any) -> None:
    meeting = plan(mw)
    services.invite_by_households(actor=mw.secretary, meeting=meeting, households=[mw.household_102])
    Notification.objects.all().delete()
    later = meeting.starts_at + dt.timedelta(hours=1)
    services.meeting_update(
        actor=mw.secretary,
        meeting=meeting,
        kind=meeting.kind,
        title=meeting.title,
        starts_at=later,
        ends_at=later + dt.timedelta(hours=2),
        venue="3栋架空层",
    )
    meeting.refresh_from_db()
    assert meeting.sequence == 1 and meeting.venue == "3栋架空层"
    deliver_notifications()
    [sms] = read_outbox()
    assert sms["to"] == WANG_PHONE and "有变更" in sms["body"] and "3栋架空层" in sms["body"]


# --- invitations ----------------------------------------------------------------------------------


def test_invitation_by_place_reaches_every_adult_once(mw: Any) -> None:
    meeting = plan(mw)
    new = services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    assert {i.person_id for i in new} == {mw.resident_a.pk, mw.wang.pk}  # not the child
    assert services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.building_a) == []
    assert Invitation.objects.filter(meeting=meeting).count() == 2
    assert Notification.objects.filter(kind="deliberation.meeting_invited").count() == 1
    deliver_notifications()
    messages = {m["to"]: m["body"] for m in read_outbox()}
    link = reverse("deliberation:meeting", kwargs={"pk": meeting.pk})
    assert set(messages) == {RESIDENT_PHONE, WANG_PHONE}
    assert messages[WANG_PHONE].startswith("【邻里】邀请您参加") and messages[WANG_PHONE].endswith(link)


def test_invitation_by_role_and_by_household_adds_only_the_new(mw: Any) -> None:
    meeting = plan(mw)
    leaders = services.invite_by_role(actor=mw.secretary, meeting=meeting, role=Role.BUILDING_LEADER)
    assert [i.person_id for i in leaders] == [mw.users["building_leader"].person.pk]
    assert "楼栋长" in leaders[0].reason
    one = services.invite_by_households(actor=mw.secretary, meeting=meeting, households=[mw.household_102])
    assert [i.person_id for i in one] == [mw.wang.pk]
    both = services.invite_by_households(
        actor=mw.secretary, meeting=meeting, households=[mw.household_102, mw.household_a]
    )
    assert [i.person_id for i in both] == [mw.resident_a.pk]  # the child is not invited
    assert invitees(meeting) == {mw.users["building_leader"].person.pk, mw.wang.pk, mw.resident_a.pk}


def test_invitations_stay_inside_the_meeting_and_the_scope(mw: Any) -> None:
    meeting = plan(mw)
    with pytest.raises(ValidationError, match="范围内"):
        services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_b)
    with pytest.raises(ValidationError, match="范围内"):
        services.invite_by_households(actor=mw.secretary, meeting=meeting, households=[mw.household_b])
    with pytest.raises(PermissionDenied):
        services.invite_by_place(actor=mw.users["grid_worker"], meeting=meeting, place=mw.building_a)


def test_the_invite_page_invites_by_place(client: Any, mw: Any) -> None:
    meeting = plan(mw)
    sign_in(client, mw.secretary)
    url = reverse("deliberation:meeting_invite", kwargs={"pk": meeting.pk})
    response = client.post(url, {"by": "place", "place": mw.building_a.code}, follow=True)
    assert "已邀请2人" in response.content.decode()
    response = client.post(url, {"by": "place", "place": mw.building_a.code}, follow=True)
    assert "已邀请0人" in response.content.decode()
    response = client.post(url, {"by": "role", "role": "nobody"}, follow=True)
    assert response.status_code == 200 and "未知的角色" in response.content.decode()
    assert invitees(meeting) == {mw.resident_a.pk, mw.wang.pk}


# --- replies and the calendar ---------------------------------------------------------------------


def test_rsvp_works_with_and_without_htmx(client: Any, mw: Any) -> None:
    meeting = plan(mw)
    services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    sign_in(client, mw.users["resident"])
    page = client.get(reverse("deliberation:meeting", kwargs={"pk": meeting.pk})).content.decode()
    assert 'name="rsvp" value="yes"' in page and "加入手机日历" in page
    url = reverse("deliberation:meeting_rsvp", kwargs={"pk": meeting.pk})
    response = client.post(url, {"rsvp": "yes"})
    assert response.status_code == 302
    assert Invitation.objects.get(meeting=meeting, person=mw.resident_a).rsvp == Rsvp.YES
    response = client.post(url, {"rsvp": "maybe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="rsvp"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Invitation.objects.get(meeting=meeting, person=mw.resident_a).rsvp == Rsvp.MAYBE
    response = client.post(url, {"rsvp": "perhaps"}, HTTP_HX_REQUEST="true")
    # refused: the fragment says why (a 200, which htmx swaps in), and the answer stands
    assert response.status_code == 200 and "请选择参加" in response.content.decode()
    assert Invitation.objects.get(meeting=meeting, person=mw.resident_a).rsvp == Rsvp.MAYBE
    sign_in(client, mw.users["volunteer"])  # reads the meeting, not invited
    response = client.post(url, {"rsvp": "yes"}, follow=True)
    assert "您没有受邀参加这次会议" in response.content.decode()


def test_the_calendar_file_parses_with_the_meeting_in_utc(client: Any, mw: Any) -> None:
    start = local(timezone.localdate() + dt.timedelta(days=3), 19, 30)
    meeting = plan(mw, starts_at=start, agenda=["加装电梯"])
    services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    sign_in(client, mw.users["resident"])
    response = client.get(reverse("deliberation:meeting_ics", kwargs={"pk": meeting.pk}))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    raw = response.content.decode()
    assert start.astimezone(dt.UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in raw
    assert "\r\n" in raw  # RFC 5545 line endings
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == start and event.decoded("dtstart").utcoffset() == dt.timedelta(0)
    assert event.decoded("dtend") == start + dt.timedelta(hours=2)
    assert str(event["summary"]) == meeting.title and str(event["location"]) == "党群服务中心二楼"
    assert str(event["uid"]).startswith(f"meeting-{meeting.pk}@") and "dtstamp" in event
    assert "加装电梯" in str(event["description"]) and str(event["status"]) == "CONFIRMED"


# --- reminders ------------------------------------------------------------------------------------


def test_each_invitee_is_reminded_once_the_day_before(mw: Any) -> None:
    start = local(timezone.localdate() + dt.timedelta(days=3), 19, 30)
    meeting = plan(mw, starts_at=start)
    services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    services.invite_by_role(actor=mw.secretary, meeting=meeting, role=Role.BUILDING_LEADER)
    services.rsvp_set(actor=mw.users["wang"], meeting=meeting, answer=Rsvp.NO)
    deliver_notifications()
    before = len(read_outbox())
    assert meeting_reminders_sweep(now=start - dt.timedelta(hours=30)) == 0  # too early
    morning = start - dt.timedelta(hours=10)  # 09:30 local, the same day
    assert meeting_reminders_sweep(now=morning) == 2  # not wang, who said no
    assert meeting_reminders_sweep(now=morning + dt.timedelta(hours=1)) == 0
    deliver_notifications()
    reminders = read_outbox()[before:]
    assert {m["to"] for m in reminders} == {RESIDENT_PHONE, mw.users["building_leader"].person.phone}
    assert all(m["body"].startswith("【邻里】提醒：") for m in reminders)
    assert Invitation.objects.filter(meeting=meeting, reminded_at__isnull=False).count() == 2


def test_no_reminder_at_night_or_for_a_cancelled_meeting(mw: Any) -> None:
    start = local(timezone.localdate() + dt.timedelta(days=3), 10, 0)
    meeting = plan(mw, starts_at=start)
    services.invite_by_place(actor=mw.secretary, meeting=meeting, place=mw.community_a)
    assert meeting_reminders_sweep(now=start - dt.timedelta(hours=12)) == 0  # 22:00 the night before
    services.meeting_cancel(actor=mw.secretary, meeting=meeting)
    assert meeting_reminders_sweep(now=start - dt.timedelta(hours=2)) == 0


# --- the door -------------------------------------------------------------------------------------


@pytest.fixture
def soon(mw: Any) -> Any:
    """A bench meeting of grid A (whose grid worker keeps the door) starting in half an hour,
    with household 102 and the central household invited, quorum 2."""
    meeting = plan(mw, starts_at=timezone.now() + dt.timedelta(minutes=30), quorum=2, place=mw.grid_a)
    services.invite_by_households(actor=mw.secretary, meeting=meeting, households=[mw.household_102])
    services.invite_by_role(actor=mw.secretary, meeting=meeting, role=Role.CENTRAL_HOUSEHOLD)
    return meeting


def test_qr_checkin_for_an_invitee_counts_once(client: Any, mw: Any, soon: Any) -> None:
    url = reverse("deliberation:meeting_checkin", kwargs={"token": soon.checkin_token})
    response = client.get(url)  # not signed in: the sign-in comes back here
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert f"next={url}".replace("/", "%2F") in response["Location"] or f"next={url}" in response["Location"]
    sign_in(client, mw.users["wang"])
    page = client.get(url).content.decode()
    assert 'id="checkin-button"' in page
    assert not Attendance.objects.exists()  # a GET writes nothing
    response = client.post(url, follow=True)
    assert "签到成功" in response.content.decode() and 'id="checked-in"' in response.content.decode()
    response = client.post(url, follow=True)
    assert "您已签到过了" in response.content.decode()
    [row] = Attendance.objects.all()
    assert row.person == mw.wang and row.method == CheckinMethod.QR
    assert sel.door_count(soon).present == 1


def test_qr_checkin_refuses_outsiders_unless_the_meeting_is_open(client: Any, mw: Any, soon: Any) -> None:
    now = timezone.now()
    resident = mw.users["resident"]  # lives in community A, not invited
    with pytest.raises(PermissionDenied):
        services.checkin_by_token(actor=resident, meeting=soon, token=soon.checkin_token, now=now)
    sign_in(client, resident)
    url = reverse("deliberation:meeting_checkin", kwargs={"token": soon.checkin_token})
    assert 'id="checkin-refused"' in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "不在这次会议的邀请名单中" in response.content.decode() and not Attendance.objects.exists()
    sign_in(client, mw.users["secretary_b"])  # another community: the meeting does not exist for them
    assert client.get(url).status_code == 404
    soon.open_to_place = True
    soon.save(update_fields=["open_to_place"])
    assert services.checkin_by_token(actor=resident, meeting=soon, token=soon.checkin_token, now=now) is True


@pytest.mark.parametrize(
    "offset", [dt.timedelta(hours=-1, minutes=-1), dt.timedelta(hours=2, minutes=1)], ids=["early", "late"]
)
def test_checkin_outside_the_window_is_refused(mw: Any, soon: Any, offset: dt.timedelta) -> None:
    at = soon.starts_at + offset
    with pytest.raises(ValidationError, match="签到"):
        services.checkin_by_token(actor=mw.users["wang"], meeting=soon, token=soon.checkin_token, now=at)
    with pytest.raises(ValidationError):
        services.attendance_tick(actor=mw.users["grid_worker"], meeting=soon, person=mw.wang, now=at)
    assert services.checkin_by_token(
        actor=mw.users["wang"], meeting=soon, token=soon.checkin_token, now=soon.starts_at - dt.timedelta(minutes=59)
    )


def test_staff_tick_from_the_invited_list_and_the_live_count(client: Any, mw: Any, soon: Any) -> None:
    sign_in(client, mw.users["grid_worker"])  # keeps the door (check-in), does not run meetings
    door = reverse("deliberation:meeting_door", kwargs={"pk": soon.pk})
    page = client.get(door, {"q": "王"}).content.decode()
    assert "<svg" in page and soon.checkin_token in page and 'id="door-count"' in page
    assert "王" in page and "用户central_household" not in page  # the search by name
    tick = reverse("deliberation:meeting_tick", kwargs={"pk": soon.pk})
    client.post(tick, {"person": mw.wang.pk})
    client.post(tick, {"person": mw.wang.pk})  # twice: once
    response = client.post(tick, {"person": mw.resident_a.pk}, follow=True)  # not invited
    assert "不在这次会议的邀请名单中" in response.content.decode()
    [row] = Attendance.objects.all()
    assert row.method == CheckinMethod.STAFF and row.checked_by == mw.users["grid_worker"]
    count = reverse("deliberation:meeting_door_count", kwargs={"pk": soon.pk})
    fragment = client.get(count).content.decode()
    assert 'id="present">1<' in fragment and "还差 1 人" in fragment and "<html" not in fragment
    carer = mw.users["central_household"]
    services.checkin_by_token(actor=carer, meeting=soon, token=soon.checkin_token)
    fragment = client.get(count).content.decode()
    assert 'id="present">2<' in fragment and "已达法定人数" in fragment
    client.post(tick, {"person": mw.wang.pk, "undo": "1"})
    assert 'id="present">1<' in client.get(count).content.decode()
    sign_in(client, mw.users["volunteer"])  # reads meetings, does not keep the door
    assert client.get(door).status_code == 403
    assert client.post(tick, {"person": mw.wang.pk}).status_code == 403


def test_a_resident_reads_only_the_meetings_of_their_community_or_invited(mw: Any) -> None:
    mine = plan(mw)
    other = plan(mw, "b", title="常四社区议事会")
    resident = mw.users["resident"]
    assert set(sel.meeting_list(actor=resident)) == {mine}
    services.invite_by_place(actor=SYSTEM, meeting=other, place=mw.community_b)
    assert set(sel.meeting_list(actor=resident)) == {mine}
    assert set(sel.meeting_list(actor=mw.users["secretary_b"])) == {other}
    assert [i.meeting for i in sel.my_invitations(actor=mw.users["wang"], upcoming=True)] == []
    services.invite_by_households(actor=mw.secretary, meeting=mine, households=[mw.household_102])
    assert [i.meeting for i in sel.my_invitations(actor=mw.users["wang"], upcoming=True)] == [mine]
    assert sel.has_upcoming_invitation(mw.users["wang"])


def test_the_door_code_survives_the_sms_sign_in(client: Any, mw: Any, soon: Any) -> None:
    """A resident scans the door's code without a session: after the sign-in page, the SMS
    link, the phone and the code, they are back on the check-in page, and one tap checks them in."""
    import re
    from urllib.parse import urlsplit

    from tests.test_accounts import _form_next, _last_code

    wanted = reverse("deliberation:meeting_checkin", kwargs={"token": soon.checkin_token})
    login = client.get(client.get(wanted)["Location"]).content.decode()
    href = re.search(r'<a[^>]*id="sms-login"[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*id="sms-login"', login)
    assert href, "the sign-in page links to the SMS sign-in"
    link = (href.group(1) or href.group(2)).replace("&amp;", "&")
    page = client.get(link)
    response = client.post(link, {"phone": WANG_PHONE, "next": _form_next(page.content.decode(), "request-code")})
    assert response.status_code == 302
    confirm = client.get(response["Location"]).content.decode()
    data = {"code": _last_code(WANG_PHONE)}
    carried = _form_next(confirm, "confirm-code")
    if carried:
        data["next"] = carried
    response = client.post(response["Location"], data)
    assert response.status_code == 302 and urlsplit(response["Location"]).path == wanted
    assert 'id="checkin-button"' in client.get(wanted).content.decode()
    client.post(wanted)
    assert Attendance.objects.get().person == mw.wang


def test_planning_and_editing_through_the_pages(client: Any, mw: Any) -> None:
    drains = topic(mw)
    sign_in(client, mw.secretary)
    new = reverse("deliberation:meeting_new", kwargs={"code": mw.community_a.code})
    assert drains.title in client.get(new).content.decode()
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    fields = {
        "kind": "monthly",
        "title": "治政月谈",
        "date": day,
        "start": "19:00",
        "end": "21:00",
        "venue": "社区广场",
        "quorum": "20",
        "topic": [drains.pk],
        "agenda": "安全提示\n\n垃圾分类",
    }
    bad = client.post(new, {**fields, "end": "18:00", "title": "坏的"})
    assert bad.status_code == 200 and "结束时间须晚于开始时间" in bad.content.decode()
    assert 'value="坏的"' in bad.content.decode()  # what was typed is kept
    response = client.post(new, fields)
    meeting = sel.meeting_list(actor=mw.secretary).get(title="治政月谈")
    assert response.status_code == 302 and response["Location"].endswith(f"/meetings/{meeting.pk}/invite/")
    assert [a.title for a in meeting.agenda.all()] == [drains.title, "安全提示", "垃圾分类"]
    assert meeting.quorum == 20 and meeting.starts_at == local(dt.date.fromisoformat(day), 19)
    edit = reverse("deliberation:meeting_edit", kwargs={"pk": meeting.pk})
    assert 'value="社区广场"' in client.get(edit).content.decode()
    response = client.post(edit, {**fields, "start": "19:30", "topic": [], "quorum": ""})
    assert response.status_code == 302
    meeting.refresh_from_db()
    drains.refresh_from_db()
    assert meeting.quorum is None and meeting.sequence == 1 and drains.status == TopicStatus.LISTED
    response = client.post(edit, {**fields, "quorum": "many"})
    assert "法定人数须为正整数" in response.content.decode()
