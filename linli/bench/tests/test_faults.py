"""The fault suite's arithmetic: when requests count as recovered after a fault."""

from __future__ import annotations

from linli.bench.faults import Answer, recovery


def _a(started: float, ended: float, status: int) -> Answer:
    return Answer("list", started, ended, status)


def test_recovery_is_measured_to_the_last_failure_after_the_database_is_back() -> None:
    back = 100.0
    # 503s while the database was away, then successes only: recovered at once
    away = [_a(90, 91, 503), _a(95, 96, 503), _a(99.5, 100.5, 200), _a(101, 101.2, 200)]
    assert recovery(away, back) == 0.0
    # a 503 answered 1.5 s after the database was back, then successes: 1.5 s
    slow = [*away, _a(100.2, 101.5, 503), _a(101.6, 101.8, 200)]
    assert recovery(slow, back) == 1.5
    # a request cut off (no answer) counts as a failure too
    cut = [*slow, _a(102, 103, 0), _a(103.1, 103.3, 201)]
    assert recovery(cut, back) == 3.0
    # failures to the end: not recovered
    assert recovery([*cut, _a(104, 104.5, 500)], back) is None
