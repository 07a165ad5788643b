"""Settings for ``make demo``: a local, DEBUG-free demo with a fixed, public secret."""

import os

os.environ.setdefault("SECRET_KEY", "linli-demo-not-secret-" + "x" * 40)

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
LINLI_DEMO = True

# The demo serves its static files uncompressed: compressing them (brotli, which WeasyPrint's
# font tools bring in) adds about 25 s to the first start for no gain on 127.0.0.1.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
