"""Settings for the test suite: fast hashing, file SMS outbox, leak guard on every response."""

import os

os.environ.setdefault("SECRET_KEY", "linli-test-not-secret-" + "x" * 40)

from .base import *  # noqa: F403
from .base import MIDDLEWARE, ROOT_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_FILE_PATH = str(ROOT_DIR / "var" / "sms" / f"test-{os.getpid()}.jsonl")
# whitenoise is left out: tests serve no static files and it warns about a missing STATIC_ROOT
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m] + ["linli.people.leakguard.LeakGuardMiddleware"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LINLI_DEMO = True
AXES_FAILURE_LIMIT = 5
# triage caches the classifier and the grid polygons per process; tests roll back both
LINLI_TRIAGE_RECHECK_SECONDS = 0
# the worker's tests do not wait between attempts to reach the database
WORKER_DATABASE_BACKOFF = (0.0,)
