"""Reads of deliberation, one module per part (topics, meetings, votes, conventions), always
through the actor's scope."""
