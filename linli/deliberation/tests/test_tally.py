"""The count of a vote against a plain statement of the law (fractions, written the way the
Civil Code reads), at the exact boundaries, and through the command anyone can recount with."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.deliberation.tally import Ballot, Choice, Elector, Rule, TallyError, area_of, parse, tally
from linli.testing.votes import law

ROOT = Path(__file__).resolve().parents[3]


@st.composite
def votes(draw: Any) -> tuple[Rule, list[Elector], list[Ballot]]:
    """A register of units held by owners (some holding several), and ballots for some units;
    an owner's units vote alike. Two registers in three have equal areas and counts (3, 4, 6,
    8, 9, 12) where two thirds, three quarters and one half fall exactly on a unit, so that the
    bounds are hit — one with an owner per unit, one with owners of several units, so that area
    and head part ways; the third has areas to the hundredth."""
    rule = draw(st.sampled_from(list(Rule)))
    mode = draw(st.sampled_from(["equal", "shared", "varied"]))
    if mode == "varied":
        n_owners = draw(st.integers(1, 8))
        n_units = draw(st.integers(n_owners, 12))
    else:
        n_units = draw(st.sampled_from([3, 4, 6, 8, 9, 12]))
        n_owners = n_units if mode == "equal" else draw(st.integers(max(1, n_units // 3), n_units))
    extra = [f"o{draw(st.integers(0, n_owners - 1))}" for _ in range(n_units - n_owners)]
    owners = [f"o{i}" for i in range(n_owners)] + extra
    areas = [draw(st.integers(1, 50000)) if mode == "varied" else 10000 for _ in owners]
    electors = [Elector(id=f"u{i}", area=a, owner=o) for i, (a, o) in enumerate(zip(areas, owners, strict=True))]
    will = {
        o: draw(st.sampled_from([None, Choice.YES, Choice.YES, Choice.NO, Choice.ABSTAIN])) for o in sorted(set(owners))
    }
    ballots = [
        Ballot(elector=e.id, choice=will[e.owner])  # type: ignore[arg-type]
        for e in electors
        if will[e.owner] is not None and draw(st.booleans() | st.just(True))
    ]
    return rule, electors, ballots


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(votes())
def test_the_count_agrees_with_the_law(vote: tuple[Rule, list[Elector], list[Ballot]]) -> None:
    rule, electors, ballots = vote
    result = tally(rule, electors, ballots)
    assert result.passed == law(rule, electors, ballots)
    # the fractions printed are the exact ones
    units = {e.id: e for e in electors}
    assert Fraction(str(result.participation_area)) == Fraction(
        sum(units[b.elector].area for b in ballots), sum(e.area for e in electors)
    )
    voters = {units[b.elector].owner for b in ballots}
    assert Fraction(str(result.participation_heads)) == Fraction(len(voters), len({e.owner for e in electors}))


def units(*areas: int, owners: list[str] | None = None) -> list[Elector]:
    names = owners or [f"o{i}" for i in range(len(areas))]
    return [Elector(id=f"u{i}", area=a * 100, owner=names[i]) for i, a in enumerate(areas)]


def ballots(*choices: str | None) -> list[Ballot]:
    return [Ballot(elector=f"u{i}", choice=Choice(c)) for i, c in enumerate(choices) if c]


def test_exactly_two_thirds_take_part_and_exactly_three_quarters_agree() -> None:
    """12 equal units, 12 owners: 8 take part (exactly 2/3), 6 of them agree (exactly 3/4)."""
    register = units(*[100] * 12)
    at_bounds = ballots(*["yes"] * 6, "no", "no", *[None] * 4)
    result = tally(Rule.ART278_SPECIAL, register, at_bounds)
    assert result.passed, result.reason
    assert (str(result.participation_area), str(result.participation_heads)) == ("2/3", "2/3")
    assert (str(result.yes_area), str(result.yes_heads)) == ("3/4", "3/4")
    # one fewer agreeing: 5/8 < 3/4
    assert not tally(Rule.ART278_SPECIAL, register, ballots(*["yes"] * 5, "no", "no", "no", *[None] * 4)).passed
    # one fewer taking part: 7/12 < 2/3, though all agree
    short = tally(Rule.ART278_SPECIAL, register, ballots(*["yes"] * 7, *[None] * 5))
    assert not short.passed and "三分之二" in short.reason


def test_one_hundredth_of_a_square_metre_decides() -> None:
    """Participation by area exactly 2/3 passes; 0.01 m² less fails."""
    exact = [Elector("a", 20000, "x"), Elector("b", 10000, "y"), Elector("c", 0, "z")]
    assert tally(Rule.ART278_ORDINARY, exact, [Ballot("a", Choice.YES), Ballot("c", Choice.YES)]).passed
    under = [Elector("a", 19999, "x"), Elector("b", 10001, "y"), Elector("c", 0, "z")]
    result = tally(Rule.ART278_ORDINARY, under, [Ballot("a", Choice.YES), Ballot("c", Choice.YES)])
    assert not result.passed and str(result.participation_area) == "19999/30000"


def test_exactly_half_is_not_a_majority() -> None:
    """过半数 is strictly more than half, by area and by head."""
    register = units(100, 100, 100, 100)
    half = tally(Rule.ART278_ORDINARY, register, ballots("yes", "yes", "no", "no"))
    assert not half.passed and "半数" in half.reason
    assert tally(Rule.ART278_ORDINARY, register, ballots("yes", "yes", "yes", "no")).passed
    # half the area agrees though most owners do: A holds two of four equal units and says no
    shared = units(100, 100, 100, 100, owners=["A", "A", "B", "C"])
    by_area = tally(Rule.ART278_ORDINARY, shared, ballots("no", "no", "yes", "yes"))
    assert str(by_area.yes_area) == "1/2" and str(by_area.yes_heads) == "2/3"
    assert not by_area.passed and "面积没有超过" in by_area.reason
    assert not tally(Rule.MAJORITY, register, ballots("yes", "no")).passed
    assert tally(Rule.TWO_THIRDS, units(1, 1, 1), ballots("yes", "yes", "no")).passed


def test_an_owner_of_several_units_counts_once_by_head() -> None:
    """A holds three of five units (60 % of the area): by area A's yes carries it, by head A is
    one of three owners — and the special rule fails by head."""
    register = units(100, 100, 100, 100, 100, owners=["A", "A", "A", "B", "C"])
    result = tally(Rule.ART278_SPECIAL, register, ballots("yes", "yes", "yes", "no", "no"))
    assert str(result.participation_heads) == "1/1" and str(result.yes_heads) == "1/3"
    assert str(result.yes_area) == "3/5" and not result.passed
    # A's units voting apart is refused: an owner is one will
    with pytest.raises(TallyError, match="不一致"):
        tally(Rule.ART278_SPECIAL, register, ballots("yes", "no", None, None, None))


def test_nobody_voting_passes_nothing() -> None:
    for rule in Rule:
        result = tally(rule, units(100, 100), [])
        assert not result.passed and result.reason == "没有人参与表决"
        assert str(result.yes_area) == "0/0" and str(result.participation_heads) == "0/1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON 对象"),
        ({"rule": "unanimous", "electors": [], "ballots": []}, "规则应为"),
        ({"rule": "majority", "electors": [], "ballots": []}, "名册是空的"),
        ({"rule": "majority", "electors": [{"id": "a"}, {"id": "a"}], "ballots": []}, "重复"),
        ({"rule": "majority", "electors": [{"id": "a"}], "ballots": [{"elector": "b", "choice": "yes"}]}, "不在名册"),
        (
            {"rule": "majority", "electors": [{"id": "a"}], "ballots": [{"elector": "a", "choice": "yes"}] * 2},
            "不止一张",
        ),
        (
            {"rule": "majority", "electors": [{"id": "a"}], "ballots": [{"elector": "a", "choice": "maybe"}]},
            "yes、no 或 abstain",
        ),
        ({"rule": "art278_ordinary", "electors": [{"id": "a", "area": 90}], "ballots": []}, "area 和 owner"),
        ({"rule": "art278_ordinary", "electors": [{"id": "a", "area": 0, "owner": "x"}], "ballots": []}, "面积"),
    ],
)
def test_bad_input_says_what_is_wrong(data: Any, message: str) -> None:
    with pytest.raises(TallyError, match=message):
        tally(*parse(data))


@pytest.mark.parametrize("raw", ["-1", "1.001", "abc", "NaN", "Infinity", True, None, 1.5])
def test_areas_are_decimal_with_two_places_at_most(raw: Any) -> None:
    with pytest.raises(TallyError):
        area_of(raw)


def test_areas_are_read_exactly() -> None:
    from decimal import Decimal

    assert [area_of(x) for x in ("89.37", Decimal("0.1"), 120, " 7.5 ")] == [8937, 10, 12000, 750]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linli.cli", "deliberation", "tally", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_anyone_can_recount_from_a_file(tmp_path: Path) -> None:
    vote = {
        "rule": "art278_special",
        "electors": [
            {"id": "1-101", "area": 90.5, "owner": "王"},
            {"id": "1-102", "area": "89.50", "owner": "王"},
            {"id": "1-201", "area": 120, "owner": "李"},
            {"id": "1-202", "area": 100, "owner": "张"},
        ],
        "ballots": [{"elector": e, "choice": "yes"} for e in ("1-101", "1-102", "1-201")],
    }
    path = tmp_path / "vote.json"
    path.write_text(json.dumps(vote, ensure_ascii=False), encoding="utf-8")
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "rule": "art278_special",
        "passed": True,
        "participation_area": "3/4",
        "participation_heads": "2/3",
        "yes_area": "1/1",
        "yes_heads": "1/1",
        "reason": result["reason"],
    }
    assert "第二百七十八条" in result["reason"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("[1", "JSON 格式有误"),
        ('{"rule": "majority", "electors": [{"id": "a", "area": NaN}], "ballots": []}', "NaN"),
        ("{}", "规则应为"),
    ],
)
def test_a_bad_file_is_exit_code_2_with_a_message(stdin: str, message: str) -> None:
    done = run("-", stdin=stdin)
    assert done.returncode == 2 and message in done.stderr and not done.stdout
    missing = run("/no/such/vote.json")
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
