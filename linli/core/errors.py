"""Domain errors raised by services; views and the API turn them into 4xx answers."""


class Conflict(Exception):
    """The write lost a race or clashes with the current state (HTTP 409)."""
