"""Who reaches deliberation's pages and API: each part declares its cases in
``test_authz_<part>.py``; they are gathered here, where the site's authorisation test looks for
an app's cases (``linli.testing.authz.case_classes``). Bound under names pytest does not collect,
so each part's cases run once, in their own module."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from linli.testing.authz import AuthzCases


def _gather() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("test_authz_"):
            module = importlib.import_module(f"{__package__}.{info.name}")
            for name, value in vars(module).items():
                if isinstance(value, type) and issubclass(value, AuthzCases) and value is not AuthzCases:
                    found[f"_{info.name}_{name}"] = value
    return found


globals().update(_gather())
