"""The two formats of GeoReport v2: JSON as DRF writes it, and XML in the spec's shape.

A view answers plain lists and dicts; the XML renderer wraps a list in the view's root and
item elements (``<service_requests><request>…``), writes a dict's keys as child elements and
names the items of nested lists after the spec (``<endpoints><endpoint>``,
``<attributes><attribute>``…). Errors are always ``<errors><error>``. Text is escaped by
ElementTree, and characters XML 1.0 cannot carry (control characters) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET  # only builds documents; input is never parsed as XML

from rest_framework.renderers import BaseRenderer, JSONRenderer

#: (root element, item element) of a list answer; the item is None when the answer is a dict.
XmlShape = tuple[str, str | None]
ERRORS: XmlShape = ("errors", "error")
SERVICE_REQUESTS: XmlShape = ("service_requests", "request")

#: How the items of a nested list are named, by the list's own element.
_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "services": "service",
    "errors": "error",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            tag = str(key) if _TAG.match(str(key)) else "item"
            _fill(ET.SubElement(element, tag), child)
    elif isinstance(value, list | tuple):
        item = _ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(data: Any, shape: XmlShape) -> bytes:
    root_tag, item_tag = shape
    root = ET.Element(root_tag)
    if item_tag is not None and isinstance(data, list | tuple):
        for row in data:
            _fill(ET.SubElement(root, item_tag), row)
    else:
        _fill(root, data)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


class Open311JSONRenderer(JSONRenderer):
    format = "json"
    media_type = "application/json"
    charset = "utf-8"


class Open311XMLRenderer(BaseRenderer):
    """``text/xml`` in the spec's shape; the shape comes from the response (set by the view's
    ``finalize_response``), so errors and replayed answers are wrapped correctly too."""

    format = "xml"
    media_type = "text/xml"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        context = renderer_context or {}
        response = context.get("response")
        view = context.get("view")
        shape: XmlShape = getattr(response, "xml_shape", None) or getattr(view, "xml_shape", None) or SERVICE_REQUESTS
        return to_xml(data, shape)
