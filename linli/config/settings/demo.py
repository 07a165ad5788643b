"""Settings for ``make demo``: a local, DEBUG-free demo.

Its ``SECRET_KEY`` is made at random on the first start and kept in ``var/secret_key``
(readable by its owner only, never in git): a secret published with the code would let
anyone forge what the key signs. ``LINLI_VAR_DIR`` moves that file elsewhere.
"""

import os
import secrets
from pathlib import Path


def _kept_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # kept from an earlier start (or written by a process starting beside us)
        for _ in range(50):
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
            import time

            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it and start again") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


if not os.environ.get("SECRET_KEY"):
    _var = Path(os.environ.get("LINLI_VAR_DIR") or Path(__file__).resolve().parents[3] / "var")
    os.environ["SECRET_KEY"] = _kept_secret(_var)

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
LINLI_DEMO = True

# The demo serves its static files uncompressed: compressing them (brotli, which WeasyPrint's
# font tools bring in) adds about 25 s to the first start for no gain on 127.0.0.1.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
