"""``linli bench tally``: the count of two large votes — 5,000 households, one vote each (simple
majority), and an owners' vote of 3,000 units under Civil Code art. 278 (special matter), some
owners holding several units — by ``deliberation.tally`` beside, in the same run, the law
written with ``fractions.Fraction`` (the plain statement the tests check it against). The
register and ballots are generated from a seed; both counts must agree."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from linli.deliberation.tally import Ballot, Choice, Elector, Rule, tally
from linli.testing.votes import law as plain_law


@dataclass(frozen=True)
class Vote:
    label: str
    rule: Rule
    electors: list[Elector]
    ballots: list[Ballot]


def households(n: int, rng: random.Random) -> Vote:
    electors = [Elector(id=f"h{i}", area=0, owner=f"h{i}") for i in range(n)]
    ballots = [
        Ballot(e.id, rng.choice([Choice.YES, Choice.YES, Choice.NO, Choice.ABSTAIN]))
        for e in electors
        if rng.random() < 0.8
    ]
    return Vote(f"{n:,} households, one vote each (majority)", Rule.MAJORITY, electors, ballots)


def owners(n_units: int, rng: random.Random) -> Vote:
    """About one owner in ten holds two or three units; areas 45–160 m² to the hundredth."""
    electors: list[Elector] = []
    owner = 0
    while len(electors) < n_units:
        held = rng.choice([1] * 9 + [2, 3])
        for _ in range(min(held, n_units - len(electors))):
            electors.append(Elector(id=f"u{len(electors)}", area=rng.randint(4500, 16000), owner=f"o{owner}"))
        owner += 1
    will = {
        f"o{i}": rng.choice([None, Choice.YES, Choice.YES, Choice.YES, Choice.NO, Choice.ABSTAIN]) for i in range(owner)
    }
    ballots = [Ballot(e.id, will[e.owner]) for e in electors if will[e.owner] is not None]  # type: ignore[arg-type]
    return Vote(f"{n_units:,} units, {owner:,} owners (art. 278, special)", Rule.ART278_SPECIAL, electors, ballots)


def law(vote: Vote) -> bool:
    """The rules as the law reads, with exact fractions (``linli.testing.votes``)."""
    return plain_law(vote.rule, vote.electors, vote.ballots)


@dataclass(frozen=True)
class Row:
    label: str
    ballots: int
    tally_p50_ms: float
    tally_p95_ms: float
    law_p50_ms: float
    passed: bool
    agree: bool


def _times(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        found.append((time.perf_counter() - start) * 1000)
    return sorted(found)


def measure(*, runs: int = 20, households_n: int = 5000, units_n: int = 3000, seed: int = 278) -> list[Row]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible benchmark, not a secret
    rows = []
    for vote in (households(households_n, rng), owners(units_n, rng)):
        ours = _times(lambda v=vote: tally(v.rule, v.electors, v.ballots), runs)  # type: ignore[misc]
        plain = _times(lambda v=vote: law(v), runs)  # type: ignore[misc]
        result = tally(vote.rule, vote.electors, vote.ballots)
        rows.append(
            Row(
                label=vote.label,
                ballots=len(vote.ballots),
                tally_p50_ms=statistics.median(ours),
                tally_p95_ms=ours[max(0, int(len(ours) * 0.95) - 1)],
                law_p50_ms=statistics.median(plain),
                passed=result.passed,
                agree=result.passed == law(vote),
            )
        )
    return rows
