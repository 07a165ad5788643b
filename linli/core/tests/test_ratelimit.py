"""The shared rate limits: counted in PostgreSQL, a sliding window, configurable by name."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from linli.core import ratelimit
from linli.core.models import RateCounter

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "count", "seconds"), [("3/5m", 3, 300), ("10/h", 10, 3600), ("1/s", 1, 1), (" 600 / 2d ", 600, 172800)]
)
def test_rates_are_parsed(text: str, count: int, seconds: int) -> None:
    assert ratelimit.parse_rate(text) == ratelimit.Rate(count, seconds)


@pytest.mark.parametrize("text", ["", "3", "3/", "x/m", "3/5y", "-1/m"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        ratelimit.parse_rate(text)


@pytest.mark.django_db
def test_a_limit_holds_and_slides(settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"probe": "3/m"}
    with time_machine.travel(T0, tick=False) as clock:
        assert [ratelimit.hit("probe", "a").allowed for _ in range(4)] == [True, True, True, False]
        assert ratelimit.hit("probe", "b").allowed  # another subject has its own budget
        refused = ratelimit.check("probe", "a")
        # not in this window; 30 s into the next, half of this one's 4 hits (the refused one
        # too) still count: 2 + 1 = 3 lets one through
        assert not refused.allowed and refused.retry_after == 90
        # 10 s into the next window, 5/6 of the last window's 4 hits still count: 3.3 + 1 > 3
        clock.shift(dt.timedelta(seconds=70))
        assert ratelimit.check("probe", "a") == ratelimit.Verdict(False, 20)
        clock.shift(dt.timedelta(seconds=19))
        assert not ratelimit.check("probe", "a").allowed
        clock.shift(dt.timedelta(seconds=1))  # the wait it said: exactly then
        assert ratelimit.hit("probe", "a").allowed
    assert RateCounter.objects.count() >= 2
    assert not any("a" in key for key in RateCounter.objects.values_list("key", flat=True) if len(key) != 64)


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [0, 1, 17, 42, 59])
def test_the_wait_given_is_the_real_wait_wherever_the_window_stands(settings: Any, offset: int) -> None:
    """A page counts the wait down (a resend of an SMS code): one second before it ends the
    limit still refuses, when it ends it lets the next one through."""
    settings.LINLI_RATE_LIMITS = {"gap": "1/m", "three": "3/5m"}
    for name, hits in (("gap", 1), ("three", 3)):
        with time_machine.travel(T0 + dt.timedelta(seconds=offset), tick=False) as clock:
            for _ in range(hits):
                assert ratelimit.hit(name, "p").allowed
            wait = ratelimit.check(name, "p").retry_after
            assert wait >= 1
            clock.shift(dt.timedelta(seconds=wait - 1))
            assert not ratelimit.check(name, "p").allowed, (name, offset, wait)
            clock.shift(dt.timedelta(seconds=1))
            assert ratelimit.check(name, "p").allowed, (name, offset, wait)


def test_a_wait_reads_in_minutes_and_seconds() -> None:
    assert [ratelimit.wait_text(s) for s in (0, 45, 60, 245)] == ["0秒", "45秒", "1分00秒", "4分05秒"]


@pytest.mark.django_db
def test_check_does_not_count(settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"probe": "1/h"}
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            assert ratelimit.check("probe", "x").allowed
        assert ratelimit.hit("probe", "x").allowed
        assert not ratelimit.hit("probe", "x").allowed


@pytest.mark.django_db
def test_an_unnamed_or_empty_limit_does_not_limit(settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"off": ""}
    assert all(ratelimit.hit("off", "x").allowed for _ in range(20))
    assert all(ratelimit.hit("never-named", "x").allowed for _ in range(20))
    assert not RateCounter.objects.exists()


@pytest.mark.django_db
def test_hit_all_counts_every_limit_and_gives_the_longest_wait(settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"short": "1/m", "long": "1/h"}
    with time_machine.travel(T0, tick=False):
        assert ratelimit.hit_all(("short", 1), ("long", 1)).allowed
        verdict = ratelimit.hit_all(("short", 1), ("long", 1))
        assert not verdict.allowed and verdict.retry_after > 60


@pytest.mark.django_db
def test_expired_windows_are_purged(settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {"probe": "5/m"}
    with time_machine.travel(T0, tick=False):
        ratelimit.hit("probe", "a")
    assert ratelimit.purge_expired(now=(T0 + dt.timedelta(seconds=30)).timestamp()) == 0
    assert ratelimit.purge_expired(now=(T0 + dt.timedelta(minutes=5)).timestamp()) == 1


def test_the_client_address_honours_trusted_proxies(settings: Any) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    settings.TRUSTED_PROXY_COUNT = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"  # a forged header is ignored without a proxy
    settings.TRUSTED_PROXY_COUNT = 1
    assert ratelimit.client_ip(request) == "1.2.3.4"
