"""Writes of deliberation, one module per part (topics, meetings, votes, conventions)."""
