"""Suite-wide fixtures: the personal-data leak guard, Chromium from Debian, the test world."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).parent / "var" / "screenshots"
# the throwaway app's tests run only in the process that installs it (tests/test_new_app.py)
collect_ignore = [] if os.environ.get("LINLI_NOTICEBOARD") else ["tests/noticeboard"]


@pytest.fixture(autouse=True)
def _personal_data_leak_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test during which a response carried a clear phone or identity number
    (outside an unmask action). The guard is the LeakGuardMiddleware of the test settings."""
    from linli.people import leakguard

    leakguard.LEAKS.clear()
    yield
    if request.node.get_closest_marker("leak_expected"):
        leakguard.LEAKS.clear()
        return
    leaks = list(leakguard.LEAKS)
    leakguard.LEAKS.clear()
    if leaks:
        pytest.fail(f"personal data leaked in responses: {leaks[:5]}", pytrace=False)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in zh-Hans: a request handled by LocaleMiddleware leaves its
    language active in the thread, which would leak into the next test."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture
def english() -> Iterator[None]:
    """The test reads messages in English (its requests send ``Accept-Language: en`` themselves)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache(request: pytest.FixtureRequest) -> None:
    """Rate limits and used one-time codes live in the shared cache (a table of the test
    database): one test's must not throttle the next. Tests without a database have none."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    from django.core.cache import cache

    cache.clear()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leak_expected: the test provokes a leak on purpose")
    # registered by pytest-xdist too; declared here so that a run with -p no:xdist accepts it
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.fixture
def world(db: Any) -> Any:
    from linli.testing import build_world

    return build_world()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # a small phone screen: the pages are phone-first
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, of: Any = None) -> Path:
        """A full-page screenshot of ``page`` (or of ``of``, a page of another context)."""
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        (of or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def nw(world: Any) -> Any:
    """The world with the needs app's catalogue and a second department (linli/needs/tests)."""
    from linli.needs.tests.conftest import make_categories
    from linli.people.models import Department, DepartmentKind

    world.categories = make_categories()
    world.power = Department.objects.create(
        code="t-power", name="国网武汉供电", kind=DepartmentKind.POWER, place=world.city
    )
    return world
