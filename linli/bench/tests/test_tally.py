"""The tally benchmark counts its generated votes as the law does (figures are printed by
``linli bench tally``, never asserted as times here)."""

from __future__ import annotations

import random

from linli.bench.tally import law, measure, owners
from linli.deliberation.tally import tally


def test_the_benchmark_votes_are_counted_as_the_law_does() -> None:
    rows = measure(runs=1, households_n=200, units_n=120, seed=7)
    assert [r.agree for r in rows] == [True, True]
    assert all(0 < r.ballots <= 200 for r in rows)


def test_the_owners_register_has_owners_of_several_units() -> None:
    vote = owners(300, random.Random(1))
    assert len(vote.electors) == 300
    heads = {e.owner for e in vote.electors}
    assert len(heads) < 300  # some hold several units
    for seed in range(20):
        v = owners(60, random.Random(seed))
        assert tally(v.rule, v.electors, v.ballots).passed == law(v)
