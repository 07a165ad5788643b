"""The web tier through a database outage: 503 with ``Retry-After``, never a 500, and back by
itself when the database is.

- Before the view, :class:`DatabaseOutageMiddleware` makes sure the connection works: a
  persistent connection that died with the server is health-checked and dropped, and a new
  connection is tried a few times within about a second (a restart's "starting up" window).
  Nothing is retried once the view has run: it may have written.
- A database error raised by the view, or anywhere else while the request is handled
  (``server_error`` is the site's 500 handler), is answered 503 with ``Retry-After`` in the
  reader's format: Open311's errors under ``/open311/``, JSON under ``/api/``, the site's
  page otherwise; the connection is closed so that the next request opens a fresh one.
- ``/healthz`` answers for itself (``degraded`` while the database is away).
"""

from __future__ import annotations

import errno
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.base import BaseStorage
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("linli.outage")

#: How long a client is asked to wait before it tries again (seconds).
RETRY_AFTER = 5
#: The pauses between attempts to connect before a view runs (about one second in all).
CONNECT_PAUSES = (0.1, 0.3, 0.6)
#: Paths that answer for themselves while the database is away.
_SELF_ANSWERING = ("/healthz", "/static/")


#: errno values of a full disk (or a user's quota)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


#: SQLSTATE of PostgreSQL's own full disk ("could not extend file")
_DISK_FULL_SQLSTATE = "53100"


def is_disk_full(exc: BaseException | None) -> bool:
    """A full disk: the site's own (an upload, an export) or the database's (its write failed,
    the server itself is still up)."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return True
    cause = getattr(exc, "__cause__", None) if exc is not None else None
    return any(getattr(e, "sqlstate", None) == _DISK_FULL_SQLSTATE for e in (exc, cause))


def disk_full(request: HttpRequest) -> HttpResponse:
    """507: an upload or an export that found the disk full (the write rolled back; reads go on)."""
    from linli.core.errors import error_response

    _forget_the_database(request)
    return error_response(
        request, 507, _("存储空间已满，暂时不能上传或导出，已填写的内容没有保存。查看不受影响，请稍后再试。")
    )


def is_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database cannot be reached (not a bad query, not a clash)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    # psycopg's own errors when they escape Django's wrapper
    module = type(exc).__module__ if exc is not None else ""
    return module.startswith("psycopg") and type(exc).__name__ in ("OperationalError", "InterfaceError")


def _drop_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        connection.connection = None


def connect_or_wait(pauses: tuple[float, ...] = CONNECT_PAUSES) -> bool:
    """Make sure this thread's connection works, trying again after each pause; False when
    the database stays away."""
    for pause in (*pauses, None):
        try:
            connection.close_if_health_check_failed()
            connection.ensure_connection()
            return True
        except DatabaseError:
            _drop_connection()
            if pause is None:
                return False
            time.sleep(pause)
    return False


class _NoMessages(BaseStorage):
    """A message store that keeps nothing (the real one may be the session, in the database)."""

    def _get(self, *args: Any, **kwargs: Any) -> tuple[list[Any], bool]:
        return [], True

    def _store(self, messages: list[Any], response: HttpResponse, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def _forget_the_database(request: HttpRequest) -> None:
    """Render the answer without the session, the user or the messages: they live in the database."""
    request.user = AnonymousUser()
    request._messages = _NoMessages(request)  # type: ignore[attr-defined]
    if hasattr(request, "session"):
        request.session.modified = False
        request.session.accessed = False


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer, in the reader's format, rendered without touching the database."""
    from linli.core.errors import error_response

    _forget_the_database(request)
    message = _("服务暂时不可用：数据库正在维护或重启，请稍后再试。")
    try:
        return error_response(request, 503, message, retry_after=RETRY_AFTER)
    except Exception:  # the page itself failed: say it plainly
        response = HttpResponse(str(message), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER)
        return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(_SELF_ANSWERING) and not connect_or_wait():
            logger.warning("database unreachable; answered 503", extra={"path": request.path})
            return unavailable(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_disk_full(exception):
            logger.error("disk full; answered 507", extra={"path": request.path})
            return disk_full(request)
        if not is_outage(exception):
            return None
        logger.warning("database lost during a request; answered 503", extra={"path": request.path})
        _drop_connection()
        return unavailable(request)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The site's 500 handler: a database outage anywhere in the request is a 503; anything
    else is the site's own error page."""
    from linli.core.errors import error_response

    exc = sys.exc_info()[1]
    if is_disk_full(exc):
        return disk_full(request)
    if is_outage(exc):
        _drop_connection()
        return unavailable(request)
    _forget_the_database(request)
    return error_response(request, 500, _("出错了，我们已记录下来。请稍后再试，或回到首页。"))
