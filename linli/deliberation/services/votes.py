"""Writes of votes. ``vote_create`` is what the other parts call to put a matter to a vote (a
meeting's decision, a convention's adoption)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, user_of
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Electorate, Meeting, OptionsKind, Topic, Vote, VoteOption, VoteRule
from linli.places.models import Place

YES_NO_OPTIONS = (("yes", _("同意")), ("no", _("不同意")), ("abstain", _("弃权")))


@transaction.atomic
def vote_create(
    *,
    actor: Actor,
    place: Place,
    title: str,
    body: str = "",
    electorate: str = Electorate.HOUSEHOLDS,
    rule: str = VoteRule.MAJORITY,
    options_kind: str = OptionsKind.YES_NO,
    options: Sequence[str] = (),
    max_choices: int = 1,
    secret: bool = False,
    closes_at: dt.datetime | None = None,
    topic: Topic | None = None,
    meeting: Meeting | None = None,
) -> Vote:
    """A vote in draft: its register is drawn and frozen when it opens."""
    require(actor, DelibCap.RUN, place)
    vote = Vote.objects.create(
        place=place,
        title=title,
        body=body,
        electorate=electorate,
        rule=rule,
        options_kind=options_kind,
        max_choices=max_choices,
        secret=secret,
        closes_at=closes_at,
        topic=topic,
        meeting=meeting,
        created_by=user_of(actor),
    )
    pairs = YES_NO_OPTIONS if options_kind == OptionsKind.YES_NO else [(str(i), o) for i, o in enumerate(options, 1)]
    VoteOption.objects.bulk_create(
        VoteOption(vote=vote, code=code, label=str(label), position=i) for i, (code, label) in enumerate(pairs)
    )
    return vote
