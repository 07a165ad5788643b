"""The needs' transitions, written once.

Each verb says from which states it may be taken, who may take it, what its button says and
what the page answers when it is done. The services check a step against this table
(:func:`expect`) before they change anything, the need's page offers exactly the verbs
:func:`verbs_for` allows (its buttons and ``need_act``'s verbs), and the API lists the same
verbs on each need (``actions``), each one of its actions (``phone-rate`` is ``rate`` with a
reporter; ``approve`` and ``reject`` are ``decide``); a test compares page, API and table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, account_id, require, scope_for
from linli.core.errors import Conflict
from linli.needs.capabilities import NeedCap
from linli.needs.models import OPEN_STATUSES, Dispatch, DispatchStatus, Need, Status, is_liaison


@dataclass(frozen=True)
class Transition:
    verb: str
    #: the states the need (or the dispatch) may be in
    sources: frozenset[str]
    #: the capability the actor needs at the need's place ("" for the need's own reporters)
    capability: str
    #: the button
    label: Any
    #: what the page says once it is done
    done: Any
    #: why it was refused when the state does not allow it
    refused: Any


def _t(verb: str, sources: Iterable[str], capability: str, label: Any, done: Any, refused: Any) -> Transition:
    return Transition(verb, frozenset(str(s) for s in sources), capability, label, done, refused)


_HANDLE = NeedCap.HANDLE_NEEDS

#: A need's verbs, in the order its page shows them.
NEED: dict[str, Transition] = {
    t.verb: t
    for t in (
        _t("accept", [Status.SUBMITTED], _HANDLE, _("受理"), _("已受理"), _("该诉求已被受理")),
        _t(
            "whistle",
            OPEN_STATUSES,
            _HANDLE,
            _("吹哨：派给部门"),
            _("已吹哨，等待部门报到"),
            _("该诉求已办结，不能吹哨"),
        ),
        _t("categorise", OPEN_STATUSES, _HANDLE, _("确认类别"), _("类别已确认"), _("已办结的诉求不能改类别")),
        _t(
            "urgency",
            OPEN_STATUSES,
            _HANDLE,
            _("调整紧急程度"),
            _("紧急程度已调整，时限已重新计算"),
            _("已办结的诉求不能调整紧急程度"),
        ),
        _t(
            "resolve",
            [Status.SUBMITTED, Status.ACCEPTED],
            _HANDLE,
            _("本级办结"),
            _("已办结"),
            _("该诉求不在本级办理中"),
        ),
        _t(
            "transfer",
            [Status.SUBMITTED, Status.ACCEPTED],
            _HANDLE,
            _("转办"),
            _("已转办"),
            _("只能转办未吹哨的在办诉求"),
        ),
        _t("merge", [Status.SUBMITTED], _HANDLE, _("合并到此"), _("已合并"), _("只能合并尚未受理的诉求")),
        _t("rate", [Status.RESOLVED], "", _("提交评价"), _("谢谢您的评价"), _("该诉求尚未办结，暂不能评价")),
        _t(
            "phone-rate",
            [Status.RESOLVED],
            _HANDLE,
            _("电话回访"),
            _("电话回访已记录"),
            _("该诉求尚未办结，暂不能评价"),
        ),
    )
}

#: The steps the system takes by itself, with no button: after the reporters' answers or a
#: week without them (close, reopen) and when a deadline passes (escalate). The services check
#: them like the others.
AUTOMATIC: dict[str, Transition] = {
    t.verb: t
    for t in (
        _t("close", [Status.RESOLVED], "", _("关闭"), _("已关闭"), _("只能关闭已办结待回访的诉求")),
        _t("reopen", [Status.RESOLVED], "", _("重新办理"), _("已重新办理"), _("只能重新办理已办结待回访的诉求")),
        _t("escalate", OPEN_STATUSES, "", _("升级"), _("已升级"), _("只能升级在办的诉求")),
        # the departments' work ends the need's: resolved when the last dispatch is, back to
        # the community when its last department was released
        _t(
            "finish",
            [Status.SUBMITTED, Status.ACCEPTED, Status.WHISTLED],
            "",
            _("办结"),
            _("已办结"),
            _("该诉求不在办理中"),
        ),
        _t("released", [Status.WHISTLED], "", _("退回社区"), _("已退回社区"), _("该诉求不在吹哨办理中")),
    )
}

#: The target of a merge must still be open (the merged one must not have been accepted).
MERGE_TARGET = _t("merge", OPEN_STATUSES, _HANDLE, _("合并到此"), _("已合并"), _("只能合并到在办的诉求"))

#: A dispatch's verbs (the department's, then the community's decision on a return).
DISPATCH: dict[str, Transition] = {
    t.verb: t
    for t in (
        _t(
            "checkin",
            [DispatchStatus.WHISTLED],
            NeedCap.WORK_DISPATCHES,
            _("报到"),
            _("已报到"),
            _("已报到或已结束"),
        ),
        _t(
            "resolve",
            [DispatchStatus.WHISTLED, DispatchStatus.CHECKED_IN],
            NeedCap.WORK_DISPATCHES,
            _("办结"),
            _("已办结"),
            _("该派单不在办理中"),
        ),
        _t(
            "return",
            [DispatchStatus.WHISTLED, DispatchStatus.CHECKED_IN],
            NeedCap.WORK_DISPATCHES,
            _("申请退单"),
            _("已申请退单，等待社区审批"),
            _("该派单不能退回"),
        ),
        _t(
            "approve",
            [DispatchStatus.RETURN_REQUESTED],
            NeedCap.DECIDE_RETURNS,
            _("同意退单"),
            _("已同意退单"),
            _("没有待审批的退单"),
        ),
        _t(
            "reject",
            [DispatchStatus.RETURN_REQUESTED],
            NeedCap.DECIDE_RETURNS,
            _("驳回"),
            _("已驳回退单"),
            _("没有待审批的退单"),
        ),
    )
}


def expect(subject: Need | Dispatch, transition: Transition) -> None:
    """Refuse the step (409) unless ``subject`` is in one of the transition's source states."""
    if subject.status not in transition.sources:
        raise Conflict(
            gettext("%(message)s(当前状态：%(status)s)")
            % {"message": transition.refused, "status": subject.get_status_display()}
        )


def take(actor: Actor, need: Need, transition: Transition) -> None:
    """The checks of a step on a need, in the services: the actor holds the transition's
    capability at the need's place (403), and the need is in one of its source states (409)."""
    if transition.capability:
        require(actor, transition.capability, need.place)
    expect(need, transition)


def verbs_for(actor: Actor, need: Need) -> frozenset[str]:
    """The verbs ``actor`` may take on ``need`` now: its state allows them and the actor holds
    their capability at the need's place, or, to rate it, reported it and has not answered yet."""
    scope = scope_for(actor)
    verbs = {
        t.verb
        for t in NEED.values()
        if need.status in t.sources and t.capability and scope.allows(t.capability, need.place_path)
    }
    account = account_id(actor)
    if (
        need.status in NEED["rate"].sources
        and account is not None
        and need.reporters.filter(user_id=account).exclude(ratings__round=need.reopen_count + 1).exists()
    ):
        verbs.add("rate")  # a reporter who has not answered this round rates its own need
    return frozenset(verbs)


def dispatch_verbs(actor: Actor, dispatch: Dispatch) -> frozenset[str]:
    """The verbs ``actor`` may take on ``dispatch`` now: the department's steps for its
    liaisons (inside the area of their grant), the decision on a return for those who decide
    returns at the need's place."""
    scope = scope_for(actor)
    path = dispatch.need.place_path
    liaison = scope.everything or is_liaison(actor, dispatch.department_id, path)
    return frozenset(
        t.verb
        for t in DISPATCH.values()
        if dispatch.status in t.sources
        and (liaison if t.capability == NeedCap.WORK_DISPATCHES else scope.allows(t.capability, path))
    )
