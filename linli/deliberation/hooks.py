"""What happens in one part of deliberation when something happens in another, inside the app:
a vote that closes adopts a convention's version, settles a decision, and so on. The votes'
services call ``vote_closed(vote)`` and ``vote_cancelled(vote)`` inside their transaction; each
part registers its reaction in ``DeliberationConfig.ready``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ON_VOTE_CLOSED: list[Callable[[Any], None]] = []


def on_vote_closed(reaction: Callable[[Any], None]) -> None:
    if reaction not in _ON_VOTE_CLOSED:
        _ON_VOTE_CLOSED.append(reaction)


def vote_closed(vote: Any) -> None:
    for reaction in _ON_VOTE_CLOSED:
        reaction(vote)


_ON_VOTE_CANCELLED: list[Callable[[Any], None]] = []


def on_vote_cancelled(reaction: Callable[[Any], None]) -> None:
    if reaction not in _ON_VOTE_CANCELLED:
        _ON_VOTE_CANCELLED.append(reaction)


def vote_cancelled(vote: Any) -> None:
    for reaction in _ON_VOTE_CANCELLED:
        reaction(vote)
