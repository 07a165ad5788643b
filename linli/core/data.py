"""Data files shipped with an app (``<app>/data/<name>.toml``): catalogues, seeds and other
constants that are content rather than code, read once per process."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any


@functools.cache
def read_data(package: str, name: str) -> dict[str, Any]:
    """The TOML file ``data/<name>.toml`` of ``package`` (``"linli.needs"``), parsed."""
    text = resources.files(package).joinpath("data", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
