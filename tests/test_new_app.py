"""A new app needs no edit outside its own folder and ``INSTALLED_APPS``: the throwaway
notice board in ``tests/noticeboard`` is installed by its own settings module and its tests
run in a process of their own (its routes, periodic job, tile, notification kind,
authorisation cases and demo seed, each through the kernel)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_throwaway_app_plugs_in_from_its_own_folder() -> None:
    assert "tests.noticeboard" not in settings.INSTALLED_APPS  # the suite's own settings leave it out
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.noticeboard.settings", "LINLI_NOTICEBOARD": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q", "tests/noticeboard"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    summary = result.stdout.strip().splitlines()[-1]
    # its five authorisation cases and four checks of its own
    assert "9 passed" in summary and "skipped" not in summary and "failed" not in summary, summary


def test_the_throwaway_app_touches_nothing_outside_its_folder() -> None:
    """No module of the project names the throwaway app (its settings module aside)."""
    for path in (ROOT / "linli").rglob("*.py"):
        assert "noticeboard" not in path.read_text(encoding="utf-8"), path
