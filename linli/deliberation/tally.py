"""The count of a vote 表决: who took part and who agreed, by head and by floor area, and whether
the rule chosen when the vote opened is met. Integers only: areas are counted in hundredths of
a square metre (as the property register gives them), and every comparison is a cross
multiplication (``3 * part >= 2 * total``), never a float or a rounded percentage.

The rules:

- ``majority``: more than half of those who voted agree (过半数); ``two_thirds``: at least two
  thirds (三分之二以上, "以上" includes the bound). Counted by head.
- Civil Code art. 278 (owners' decisions 业主共同决定事项): owners holding at least two thirds
  of the total area AND at least two thirds of the owners by head take part; then
  ``art278_special`` (raising or using the maintenance fund, rebuilding, changing the use of
  common parts: items 6–8) needs at least three quarters of the participating area AND of the
  participating owners, ``art278_ordinary`` (every other matter) more than half of both.

By head, an owner is a person: one who holds several units counts once (最高人民法院《关于审理
建筑物区分所有权纠纷案件适用法律若干问题的解释》第九条). Such an owner's units must vote alike;
their areas each count. Abstaining is taking part without agreeing.

The app and ``linli deliberation tally FILE.json`` count through :func:`tally`, so that anyone
can recount a published result from its register and ballots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _


class Rule(StrEnum):
    MAJORITY = "majority"
    TWO_THIRDS = "two_thirds"
    ART278_ORDINARY = "art278_ordinary"
    ART278_SPECIAL = "art278_special"


ART278 = (Rule.ART278_ORDINARY, Rule.ART278_SPECIAL)


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class TallyError(ValueError):
    """The register or the ballots cannot be counted (the message says why)."""


@dataclass(frozen=True)
class Elector:
    """One vote of the register: ``area`` in hundredths of a square metre (0 when the vote is
    not weighted by area), ``owner`` the person it counts as by head."""

    id: str
    area: int
    owner: str


@dataclass(frozen=True)
class Ballot:
    elector: str
    choice: Choice


@dataclass(frozen=True)
class Ratio:
    """``part`` of ``whole``, exact."""

    part: int
    whole: int

    def at_least(self, num: int, den: int) -> bool:
        """part / whole >= num / den (False when nothing is counted)."""
        return self.whole > 0 and self.part * den >= num * self.whole

    def more_than(self, num: int, den: int) -> bool:
        """part / whole > num / den (False when nothing is counted)."""
        return self.whole > 0 and self.part * den > num * self.whole

    def __str__(self) -> str:
        """The reduced fraction ``p/q`` (``0/0`` when nothing is counted)."""
        divisor = math.gcd(self.part, self.whole) or 1
        return f"{self.part // divisor}/{self.whole // divisor}"


@dataclass(frozen=True)
class Result:
    rule: Rule
    passed: bool
    participation_area: Ratio
    participation_heads: Ratio
    yes_area: Ratio
    yes_heads: Ratio
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": str(self.rule),
            "passed": self.passed,
            "participation_area": str(self.participation_area),
            "participation_heads": str(self.participation_heads),
            "yes_area": str(self.yes_area),
            "yes_heads": str(self.yes_heads),
            "reason": self.reason,
        }


def tally(rule: Rule, electors: Sequence[Elector], ballots: Iterable[Ballot]) -> Result:
    """Count ``ballots`` (one per elector at most) against the register ``electors``."""
    if not electors:
        raise TallyError(_("选民名册是空的"))
    register = {e.id: e for e in electors}
    if len(register) != len(electors):
        raise TallyError(_("选民名册中有重复的编号"))
    cast: dict[str, Choice] = {}
    for ballot in ballots:
        if ballot.elector not in register:
            raise TallyError(_("选票的选民“%(id)s”不在名册中") % {"id": ballot.elector})
        if ballot.elector in cast:
            raise TallyError(_("选民“%(id)s”有不止一张计入的选票") % {"id": ballot.elector})
        cast[ballot.elector] = ballot.choice
    by_owner: dict[str, set[Choice]] = {}
    for elector_id, choice in cast.items():
        by_owner.setdefault(register[elector_id].owner, set()).add(choice)
    split = sorted(owner for owner, choices in by_owner.items() if len(choices) > 1)
    if split:
        raise TallyError(_("业主“%(owner)s”的几个专有部分表决不一致") % {"owner": split[0]})

    total_area = sum(e.area for e in electors)
    owners = {e.owner for e in electors}
    voted_area = sum(register[i].area for i in cast)
    yes_area = sum(register[i].area for i, c in cast.items() if c == Choice.YES)
    yes_owners = sum(1 for choices in by_owner.values() if choices == {Choice.YES})
    participation_area = Ratio(voted_area, total_area)
    participation_heads = Ratio(len(by_owner), len(owners))
    agree_area = Ratio(yes_area, voted_area)
    agree_heads = Ratio(yes_owners, len(by_owner))
    passed, reason = _decide(rule, participation_area, participation_heads, agree_area, agree_heads, total_area)
    return Result(rule, passed, participation_area, participation_heads, agree_area, agree_heads, reason)


def _decide(
    rule: Rule, part_area: Ratio, part_heads: Ratio, yes_area: Ratio, yes_heads: Ratio, total_area: int
) -> tuple[bool, str]:
    if rule in ART278 and total_area <= 0:
        raise TallyError(_("按民法典第二百七十八条表决，名册须有各专有部分的面积"))
    if part_heads.part == 0:
        return False, _("没有人参与表决")
    if rule == Rule.MAJORITY:
        if yes_heads.more_than(1, 2):
            return True, _("通过：同意的人数超过参与表决人数的半数")
        return False, _("未通过：同意的人数没有超过参与表决人数的半数")
    if rule == Rule.TWO_THIRDS:
        if yes_heads.at_least(2, 3):
            return True, _("通过：同意的人数达到参与表决人数的三分之二")
        return False, _("未通过：同意的人数不到参与表决人数的三分之二")
    if not part_area.at_least(2, 3):
        return False, _("未通过：参与表决的专有部分面积不到总面积的三分之二（民法典第二百七十八条）")
    if not part_heads.at_least(2, 3):
        return False, _("未通过：参与表决的业主不到业主总人数的三分之二（民法典第二百七十八条）")
    if rule == Rule.ART278_SPECIAL:
        if not yes_area.at_least(3, 4):
            return False, _("未通过：同意的面积不到参与表决面积的四分之三（民法典第二百七十八条，特别事项）")
        if not yes_heads.at_least(3, 4):
            return False, _("未通过：同意的业主不到参与表决业主的四分之三（民法典第二百七十八条，特别事项）")
        return True, _(
            "通过：参与表决的面积和人数均达三分之二，同意的面积和人数均达参与表决的四分之三（民法典第二百七十八条，特别事项）"
        )
    if not yes_area.more_than(1, 2):
        return False, _("未通过：同意的面积没有超过参与表决面积的半数（民法典第二百七十八条）")
    if not yes_heads.more_than(1, 2):
        return False, _("未通过：同意的业主没有超过参与表决业主的半数（民法典第二百七十八条）")
    return True, _("通过：参与表决的面积和人数均达三分之二，同意的面积和人数均过半数（民法典第二百七十八条）")


# --- reading a register and ballots given as data (the command, later the API) -----------------


def area_of(raw: Any) -> int:
    """A floor area in square metres (a number or a string, at most two decimals, not
    negative) in hundredths. Decimal, never float: ``json.loads(..., parse_float=Decimal)``."""
    if isinstance(raw, bool) or not isinstance(raw, int | str | Decimal):
        raise TallyError(_("面积“%(raw)s”应为数字") % {"raw": raw})
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise TallyError(_("面积“%(raw)s”应为数字") % {"raw": raw}) from None
    if not value.is_finite() or value < 0:
        raise TallyError(_("面积“%(raw)s”应为不小于 0 的数") % {"raw": raw})
    hundredths = value * 100
    if hundredths != hundredths.to_integral_value() or hundredths > 10**12:
        raise TallyError(_("面积“%(raw)s”最多两位小数") % {"raw": raw})
    return int(hundredths)


def _text(raw: Any, what: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip():
        raise TallyError(_("%(what)s应为非空的文字或整数") % {"what": what})
    return str(raw).strip()[:200]


def parse(data: Any) -> tuple[Rule, list[Elector], list[Ballot]]:
    """``{"rule", "electors": [{"id", "area", "owner"}], "ballots": [{"elector", "choice"}]}``.
    ``area`` and ``owner`` are required by the art. 278 rules; elsewhere an elector without an
    owner counts as one head of its own."""
    if not isinstance(data, Mapping):
        raise TallyError(_("输入应为一个 JSON 对象"))
    try:
        rule = Rule(str(data.get("rule")))
    except ValueError:
        raise TallyError(_("规则应为 %(rules)s 之一") % {"rules": ", ".join(r.value for r in Rule)}) from None
    rows, papers = data.get("electors"), data.get("ballots")
    if not isinstance(rows, list) or not isinstance(papers, list):
        raise TallyError(_("electors 和 ballots 应为列表"))
    electors = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, Mapping):
            raise TallyError(_("第 %(n)s 个选民应为对象") % {"n": n})
        elector_id = _text(row.get("id"), _("选民编号"))
        if rule in ART278 and ("area" not in row or "owner" not in row):
            raise TallyError(_("按民法典第二百七十八条表决，选民“%(id)s”须有 area 和 owner") % {"id": elector_id})
        area = area_of(row["area"]) if "area" in row else 0
        owner = _text(row["owner"], _("业主")) if row.get("owner") is not None else f"elector:{elector_id}"
        electors.append(Elector(id=elector_id, area=area, owner=owner))
    ballots = []
    for n, paper in enumerate(papers, 1):
        if not isinstance(paper, Mapping):
            raise TallyError(_("第 %(n)s 张选票应为对象") % {"n": n})
        try:
            choice = Choice(str(paper.get("choice")))
        except ValueError:
            raise TallyError(_("第 %(n)s 张选票的选择应为 yes、no 或 abstain") % {"n": n}) from None
        ballots.append(Ballot(elector=_text(paper.get("elector"), _("选票的选民")), choice=choice))
    return rule, electors, ballots
