"""Fixtures for the needs tests: the foundation's small world plus a catalogue, the national
calendar and a second department."""

from __future__ import annotations

from linli.needs.models import Category, HandlingLevel
from linli.people.models import DepartmentKind
from linli.workdays.models import LimitUnit


def make_categories() -> dict[str, Category]:
    rows = [
        (
            "lighting",
            "路灯照明",
            HandlingLevel.GRID,
            "",
            ["路灯", "灯不亮"],
            ["楼下路灯不亮了", "小区路灯坏了晚上很黑"],
        ),
        (
            "water",
            "供水",
            HandlingLevel.DEPARTMENT,
            DepartmentKind.WATER,
            ["停水", "水压"],
            ["家里停水了", "水管爆了漏水"],
        ),
        ("dispute", "邻里纠纷", HandlingLevel.COMMUNITY, "", ["吵架", "纠纷"], ["邻居吵架", "楼上漏水邻居不管"]),
    ]
    found = {}
    for code, name, level, kind, keywords, examples in rows:
        found[code], _ = Category.objects.update_or_create(
            city=None,
            code=code,
            defaults={
                "name": name,
                "level": level,
                "department_kind": kind,
                "response_limit": 1,
                "response_unit": LimitUnit.WORKDAYS,
                "checkin_limit": 1,
                "checkin_unit": LimitUnit.WORKDAYS,
                "resolution_limit": 7,
                "resolution_unit": LimitUnit.WORKDAYS,
                "keywords": keywords,
                "examples": examples,
                "public": code != "dispute",  # as in the default catalogue
            },
        )
    return found
