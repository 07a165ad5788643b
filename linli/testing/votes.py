"""Votes as the law states them, with exact fractions: the plain statement that
``deliberation.tally`` is checked against (its tests) and measured beside (``linli bench
tally``)."""

from __future__ import annotations

from fractions import Fraction

from linli.deliberation.tally import Ballot, Choice, Elector, Rule


def law(rule: Rule, electors: list[Elector], ballots: list[Ballot]) -> bool:
    """Art. 278 as it reads, with exact fractions: 专有部分面积占比三分之二以上的业主且人数占比
    三分之二以上的业主参与表决; special matters: 经参与表决专有部分面积四分之三以上的业主且参与表决
    人数四分之三以上的业主同意; others: 过半数 of both. 以上 includes the bound; 过半数 does not.
    ``majority`` and ``two_thirds`` count heads of those who voted."""
    units = {e.id: e for e in electors}
    voted = {b.elector: b.choice for b in ballots}
    owners = {e.owner for e in electors}
    voters = {units[i].owner for i in voted}
    agreeing = {units[i].owner for i, c in voted.items() if c == Choice.YES}
    if not voters:
        return False
    heads_yes = Fraction(len(agreeing), len(voters))
    if rule == Rule.MAJORITY:
        return heads_yes > Fraction(1, 2)
    if rule == Rule.TWO_THIRDS:
        return heads_yes >= Fraction(2, 3)
    total = sum(Fraction(e.area, 100) for e in electors)
    area_voted = sum(Fraction(units[i].area, 100) for i in voted)
    area_yes = sum(Fraction(units[i].area, 100) for i, c in voted.items() if c == Choice.YES)
    if area_voted / total < Fraction(2, 3) or Fraction(len(voters), len(owners)) < Fraction(2, 3):
        return False
    if rule == Rule.ART278_SPECIAL:
        return area_yes / area_voted >= Fraction(3, 4) and heads_yes >= Fraction(3, 4)
    return area_yes / area_voted > Fraction(1, 2) and heads_yes > Fraction(1, 2)
