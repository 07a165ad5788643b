"""Helpers of the security regression suite: sign in as a real client does, and act as a
second server process (another gunicorn worker) against this test's database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.urls import reverse

from linli.testing import PASSWORD, totp_now

ROOT = Path(__file__).resolve().parents[2]


def sign_in_staff(client: Any, username: str, *, code: str | None = None) -> Any:
    """The whole staff sign-in: password, then the TOTP code. Returns the last response."""
    response = client.post(reverse("account_login"), {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    if "2fa" not in response["Location"]:  # a role without a second factor (a carer)
        return response
    return client.post(response["Location"], {"code": code or totp_now()})


def sign_in_by_code(client: Any, phone: str) -> Any:
    """Sign in with an SMS code (residents and carers), reading the code from the outbox."""
    from linli.accounts.sms import read_outbox

    response = client.post(reverse("account_request_login_code"), {"phone": phone})
    assert response.status_code == 302, response.content[:300]
    [code] = codes_in([m for m in read_outbox() if m["to"] == phone][-1]["body"])
    return client.post(response["Location"], {"code": code})


def other_process(code: str, *, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a new Python process (as a second web worker would be) with the test
    settings, against the database of the running test, and return what it printed. The test
    must use ``django_db(transaction=True)`` so that the other process sees its rows."""
    from django.db import connection

    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.config.settings.test", **(env or {})}
    name = connection.settings_dict["NAME"]
    if environ.get("DATABASE_URL"):
        parts = urlsplit(environ["DATABASE_URL"])
        environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    else:
        environ["LINLI_DB_NAME"] = name
    program = "import django\ndjango.setup()\nfrom django.test.utils import setup_test_environment\n"
    program += "setup_test_environment()\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", program], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def body_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def codes_in(body: str) -> list[str]:
    return re.findall(r"(?<!\d)\d{6}(?!\d)", body)
