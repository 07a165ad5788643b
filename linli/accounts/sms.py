"""Pluggable SMS senders (FixMyStreet's ``SendReport::*`` idea): one small registry.

``SMS_BACKEND`` names the class. The demo and tests use :class:`FileSMSBackend`, which
appends one JSON line per message to ``SMS_FILE_PATH`` so that tests can read the code a
resident received. A real deployment adds a class for its SMS gateway.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from linli.people.identity import mask_phone

logger = logging.getLogger("linli.sms")
_lock = threading.Lock()


@dataclass(frozen=True)
class SMS:
    to: str
    body: str


class BaseSMSBackend:
    def send(self, message: SMS) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class FileSMSBackend(BaseSMSBackend):
    """Writes messages to a JSON-lines file (demo and tests)."""

    def send(self, message: SMS) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"to": message.to, "body": message.body, "at": timezone.now().isoformat()}, ensure_ascii=False
        )
        with _lock, path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        logger.info("sms queued to file", extra={"to": mask_phone(message.to)})


class ConsoleSMSBackend(BaseSMSBackend):
    """Prints messages on the console log (the number masked)."""

    def send(self, message: SMS) -> None:
        logger.warning("SMS to %s: %s", mask_phone(message.to), message.body)


def send_sms(to: str, body: str) -> None:
    backend: BaseSMSBackend = import_string(settings.SMS_BACKEND)()
    backend.send(SMS(to=to, body=body))


def read_outbox(path: str | None = None) -> list[dict[str, str]]:
    """The messages a FileSMSBackend wrote, oldest first (for tests and the demo)."""
    target = Path(path or settings.SMS_FILE_PATH)
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
