"""What a resident must do at once when a need is an emergency: a gas smell, a fire, a person in
danger. Before anyone comes to handle it, the reporter is shown what keeps them safe and the
numbers to call (119, 110, 120, the utility's repair line), on the report form as they type and
on the need's page once it is sent.

Which needs are emergencies is catalogue data (``Category.emergency``, ``emergency_words`` and
``emergency_phone``, from ``needs/data/catalogue.toml`` or a city's own catalogue): a need whose
text holds one of a category's emergency words (its own category's first), or a 特急 need of a
category that has advice. The advice itself is the same everywhere and is written here, in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.core.text import normalize
from linli.needs.models import Category, EmergencyKind, Urgency


@dataclass(frozen=True)
class Number:
    """A number to call, and who answers it."""

    number: str
    label: Any


FIRE_BRIGADE = Number("119", _("火警"))
POLICE = Number("110", _("报警"))
AMBULANCE = Number("120", _("急救"))


@dataclass(frozen=True)
class Advice:
    """What to do first, in order, and whom to call."""

    kind: str
    title: Any
    steps: tuple[Any, ...]
    numbers: tuple[Number, ...]


ADVICE: dict[str, Advice] = {
    EmergencyKind.GAS: Advice(
        EmergencyKind.GAS,
        _("闻到燃气味：先保证安全，再打电话"),
        (
            _("不要开关电灯和电器，不要点火，不要在屋里打电话。"),
            _("打开门窗通风，关上燃气总阀。"),
            _("马上离开，到楼外安全的地方再打电话。"),
        ),
        (FIRE_BRIGADE,),
    ),
    EmergencyKind.FIRE: Advice(
        EmergencyKind.FIRE,
        _("发现起火：先离开，再报警"),
        (
            _("马上离开，不要乘电梯，不要回去拿东西。"),
            _("用湿毛巾捂住口鼻，弯腰沿着墙走；出门后随手关门。"),
            _("到安全的地方拨打 119，说清地址和什么在烧。"),
        ),
        (FIRE_BRIGADE, AMBULANCE),
    ),
    EmergencyKind.DANGER: Advice(
        EmergencyKind.DANGER,
        _("有人遇到危险：先打急救或报警电话"),
        (
            _("有人受伤、昏倒或没有呼吸，马上拨打 120。"),
            _("有人打人、拿刀或威胁别人，马上拨打 110，先保护好自己。"),
            _("在安全的前提下留在旁边，等救援的人来。"),
        ),
        (AMBULANCE, POLICE),
    ),
}

#: Where the repair line of a utility is written when the catalogue has none.
REPAIR_LINE_HINT: dict[str, Any] = {
    EmergencyKind.GAS: _("燃气公司24小时抢修电话印在燃气表、燃气卡或缴费单上。"),
}


@dataclass(frozen=True)
class Emergency:
    """The advice a need calls for, with the numbers to call (the category's repair line
    last) and where to find that line when the catalogue has none."""

    advice: Advice
    category: Category

    @property
    def numbers(self) -> list[Number]:
        numbers = list(self.advice.numbers)
        if self.category.emergency_phone:
            numbers.append(Number(self.category.emergency_phone, _("%(name)s抢修") % {"name": self.category.label()}))
        return numbers

    @property
    def hint(self) -> Any:
        return "" if self.category.emergency_phone else REPAIR_LINE_HINT.get(self.advice.kind, "")


def emergency_for(
    text: str, categories: Iterable[Category], *, category: Category | None = None, urgency: str = ""
) -> Emergency | None:
    """The emergency a need's ``text`` describes: the advice of the first category (its own
    ``category`` first) one of whose emergency words it holds; else, for a 特急 need, its own
    category's advice; else none."""
    key = normalize(text or "")
    ordered = [category] if category is not None else []
    ordered += [c for c in categories if category is None or c.pk != category.pk]
    if key:
        for candidate in ordered:
            if candidate.emergency in ADVICE and any(
                word and normalize(word) in key for word in candidate.emergency_words
            ):
                return Emergency(ADVICE[candidate.emergency], candidate)
    if urgency == Urgency.EMERGENCY and category is not None and category.emergency in ADVICE:
        return Emergency(ADVICE[category.emergency], category)
    return None
