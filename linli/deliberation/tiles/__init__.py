"""Deliberation's home-page tiles and to-dos, one module per part."""

from linli.deliberation.tiles import conventions, meetings, topics, votes

TILES = [*topics.TILES, *meetings.TILES, *votes.TILES, *conventions.TILES]
TODOS = [*topics.TODOS, *votes.TODOS]
