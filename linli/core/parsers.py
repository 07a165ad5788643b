"""The API's JSON parser (its own module: DRF's settings import it while ``rest_framework.views``
is being imported, so it must not import that module itself)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deep for the parser (``[[[[…`` a thousand
    times) answered as malformed rather than a RecursionError and a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("请求体嵌套过深。")) from exc
