"""The departments' part (报到): check in, resolve, ask to return a dispatch, and the
community's decision on a return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.access import Actor, is_system, require, scope_for, user_of
from linli.needs.models import (
    ACTIVE_DISPATCH,
    Dispatch,
    DispatchStatus,
    EventKind,
    Need,
    Status,
    is_liaison,
)
from linli.needs.photos import PhotoUpload, photos_attach
from linli.needs.services.common import _check_result, _now, lock_need, notify_need, record_need_event
from linli.needs.services.handling import _finish
from linli.needs.workflow import AUTOMATIC, DISPATCH, expect

# --- departments: check in, resolve, return ---------------------------------------------------


def _lock_dispatch(dispatch: Dispatch | int) -> tuple[Dispatch, Need]:
    pk = dispatch.pk if isinstance(dispatch, Dispatch) else dispatch
    found = Dispatch.objects.select_related("department", "department__place").filter(pk=pk).first()
    if found is None:
        raise ValidationError(_("派单不存在"))
    need = lock_need(found.need_id)
    found = (
        Dispatch.objects.select_for_update(of=("self",)).select_related("department", "department__place").get(pk=pk)
    )
    return found, need


def require_liaison(actor: Actor, dispatch: Dispatch, need: Need) -> None:
    """Only a liaison of the dispatch's department (or a system admin) works it."""
    if is_system(actor):
        return
    if scope_for(actor).everything:
        return
    if is_liaison(actor, dispatch.department_id, need.place_path):
        return
    raise PermissionDenied(_("只有承办部门的联络人可以操作"))


def _dispatch_event(
    need: Need,
    dispatch: Dispatch,
    kind: str,
    *,
    actor: Actor,
    at: dt.datetime,
    from_status: str | None = None,
    note: str = "",
    **data: Any,
) -> None:
    """A step of one department's dispatch on the need's timeline (the department and the
    dispatch named in it)."""
    record_need_event(
        need,
        kind,
        actor=actor,
        at=at,
        from_status=need.status if from_status is None else from_status,
        department=dispatch.department,
        note=note,
        data={**data, "dispatch": dispatch.pk},
    )


def _lead_resolved(need: Need) -> Dispatch | None:
    """The dispatch whose result becomes the need's: the lead department's, else the first resolved."""
    return need.dispatches.filter(status=DispatchStatus.RESOLVED).order_by("-is_lead", "resolved_at").first()


def dispatch_checkin(*, actor: Actor, dispatch: Dispatch | int, now: dt.datetime | None = None) -> Dispatch:
    """The department checks in 报到: it has seen the whistle and takes the work on."""
    now = _now(now)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        expect(dispatch, DISPATCH["checkin"])
        dispatch.status, dispatch.checked_in_at = DispatchStatus.CHECKED_IN, now
        dispatch.checked_in_by = user_of(actor)
        dispatch.save(update_fields=["status", "checked_in_at", "checked_in_by"])
        _dispatch_event(need, dispatch, EventKind.CHECKED_IN, actor=actor, at=now, on_time=now <= dispatch.checkin_due)
    return dispatch


def dispatch_resolve(
    *,
    actor: Actor,
    dispatch: Dispatch | int,
    result: str,
    photos: Sequence[PhotoUpload] = (),
    now: dt.datetime | None = None,
) -> Dispatch:
    """The department finished its part. When no department is still working, the need is
    resolved with the lead department's result."""
    now = _now(now)
    result = _check_result(result)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        expect(dispatch, DISPATCH["resolve"])
        if dispatch.status == DispatchStatus.WHISTLED:
            dispatch_checkin(actor=actor, dispatch=dispatch, now=now)
            dispatch.refresh_from_db()
        dispatch.status, dispatch.resolved_at, dispatch.result = DispatchStatus.RESOLVED, now, result[:4000]
        dispatch.save(update_fields=["status", "resolved_at", "result"])
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor, stage="result")
        on_time = now <= dispatch.resolution_due
        _dispatch_event(need, dispatch, EventKind.RESOLVED, actor=actor, at=now, note=result, on_time=on_time)
        if not need.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
            lead = _lead_resolved(need)
            _finish(need, actor=actor, now=now, result=lead.result if lead else result)
    return dispatch


def dispatch_return(*, actor: Actor, dispatch: Dispatch | int, reason: str, now: dt.datetime | None = None) -> Dispatch:
    """The department asks to return 退单 the need (not ours, wrong place…); the community
    approves or rejects."""
    now = _now(now)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": [_("请说明退单理由(至少4个字)")]})
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        expect(dispatch, DISPATCH["return"])
        dispatch.status, dispatch.return_reason = DispatchStatus.RETURN_REQUESTED, reason[:1000]
        dispatch.save(update_fields=["status", "return_reason"])
        _dispatch_event(need, dispatch, EventKind.RETURN_REQUESTED, actor=actor, at=now, note=reason)
        notify_need(need, "return_requested", dispatch=dispatch.pk)
    return dispatch


def dispatch_return_decide(
    *, actor: Actor, dispatch: Dispatch | int, approve: bool, note: str = "", now: dt.datetime | None = None
) -> Dispatch:
    """The community approves a return (the department is released; when none is left, the
    need comes back to the community) or rejects it (the department keeps working)."""
    now = _now(now)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        decision = DISPATCH["approve" if approve else "reject"]
        require(actor, decision.capability, need.place)
        expect(dispatch, decision)
        before = need.status
        if approve:
            dispatch.status = DispatchStatus.RETURNED
            dispatch.save(update_fields=["status"])
            if not need.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
                lead = _lead_resolved(need)
                if lead is not None:  # another department's work stands: the need is resolved
                    _dispatch_event(
                        need, dispatch, EventKind.RETURN_APPROVED, actor=actor, at=now, from_status=before, note=note
                    )
                    _finish(need, actor=actor, now=now, result=lead.result)
                    return dispatch
                expect(need, AUTOMATIC["released"])
                need.status = Status.ACCEPTED
                need.save(update_fields=["status"])
            kind = EventKind.RETURN_APPROVED
        else:
            dispatch.status = DispatchStatus.CHECKED_IN if dispatch.checked_in_at else DispatchStatus.WHISTLED
            dispatch.save(update_fields=["status"])
            kind = EventKind.RETURN_REJECTED
        _dispatch_event(need, dispatch, kind, actor=actor, at=now, from_status=before, note=note)
        notify_need(need, kind, dispatch=dispatch.pk)
    return dispatch
