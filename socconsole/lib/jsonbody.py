"""Splitting a request body into items, keeping each item's exact bytes.

Accepted bodies: one JSON object; a JSON array of items; an ARM list
(`{"value": [...]}`, optionally with `nextLink`/`@odata.*` keys); and, when
the content type is NDJSON, one item per non-blank line. A UTF-8 BOM is
skipped. Array elements are located with `raw_decode` at character offsets, so
`RawItem.raw` is the element's text re-encoded, i.e. the bytes as sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .jsonsafe import DECODER, MAX_DEPTH, JSONTooDeep, describe, value_extent


class BodyError(Exception):
    """The request body as a whole cannot be read (answer HTTP 400)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class InvalidJSON:
    """Stands in for the data of an NDJSON line that could not be decoded."""

    message: str
    code: str = "invalid_json"


BOM = b"\xef\xbb\xbf"
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
# Keys an ARM list response may carry next to `value`.
ARM_LIST_EXTRA_KEYS = {"nextlink", "@odata.nextlink", "@odata.context", "@odata.count"}
_WS = " \t\n\r"


@dataclass(slots=True)
class RawItem:
    index: int
    raw: bytes
    data: object


def is_ndjson(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.startswith(NDJSON_TYPES)


def split_body(body: bytes, content_type: str | None) -> list[RawItem]:
    """Split a request body into items; raise BodyError when the body is unusable."""
    if body.startswith(BOM):
        body = body[len(BOM):]
    if not body.strip():
        raise BodyError("The request body is empty.")
    if is_ndjson(content_type):
        return _split_ndjson(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    # Python's decoder refuses deep input with RecursionError (it never crashes), so the
    # common case parses at once; only a body that hit the limit is scanned element by
    # element, so that a too-deep item in an array is refused alone. Items deeper than
    # MAX_DEPTH that parse are refused by normalize (scrub).
    try:
        try:
            return _split_json(text)
        except RecursionError:
            return _split_json(text, scan=True)
    except RecursionError:
        raise BodyError(f"The request body nests JSON deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise BodyError(f"The request body is not valid JSON: {describe(exc)}") from None


def _split_ndjson(body: bytes) -> list[RawItem]:
    items = []
    for line in body.split(b"\n"):
        raw = line.strip()
        if raw:
            items.append(RawItem(len(items), raw, _decode_line(raw)))
    return items


def _decode_line(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidJSON("This line is not valid UTF-8.")
    try:
        return DECODER.decode(text)
    except RecursionError:
        return InvalidJSON(str(JSONTooDeep()), code="too_deep")
    except ValueError as exc:
        return InvalidJSON(f"This line is not valid JSON: {describe(exc)}")


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _split_json(text: str, scan: bool = False) -> list[RawItem]:
    start = _skip_ws(text, 0)
    if text[start] == "[":
        elements, end = _walk_array(text, start, scan)
    elif text[start] == "{":
        elements, end = _walk_top_object(text, start)
    else:
        value, end = DECODER.raw_decode(text, start)
        _expect_end(text, end)
        raise BodyError("The request body must be a JSON object or array, not a single value.")
    _expect_end(text, end)
    return [RawItem(i, text[s:e].encode("utf-8"), value) for i, (s, e, value) in
            enumerate(elements)]


def _expect_end(text: str, end: int) -> None:
    pos = _skip_ws(text, end)
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)


def _walk_array(text: str, start: int, scan: bool = False
                ) -> tuple[list[tuple[int, int, object]], int]:
    """Elements of the array opening at `start` as (start, end, value); and its end.
    With `scan`, each element's depth is measured first so a too-deep one is refused alone."""
    elements = []
    pos = _skip_ws(text, start + 1)
    if pos < len(text) and text[pos] == "]":
        return elements, pos + 1
    while True:
        depth, end = value_extent(text, pos) if scan else (0, None)
        if depth > MAX_DEPTH and end is not None:
            value = InvalidJSON(str(JSONTooDeep()), code="too_deep")
        else:
            value, end = DECODER.raw_decode(text, pos)
        elements.append((pos, end, value))
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == "]":
            return elements, pos + 1
        if pos >= len(text) or text[pos] != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _skip_ws(text, pos + 1)


def _walk_top_object(text: str, start: int) -> tuple[list[tuple[int, int, object]], int]:
    """The top-level object as one item, or the elements of its `value` for an ARM list."""
    value, end = DECODER.raw_decode(text, start)
    if _is_arm_list(value):
        elements, _ = _walk_array(text, _key_offset(text, start, "value"))
        return elements, end
    if _is_rest_example(value):
        # The Azure REST API specs' example files wrap the ARM list in the response.
        body = start
        for key in ("responses", "200", "body", "value"):
            body = _key_offset(text, body, key)
        elements, _ = _walk_array(text, body)
        return elements, end
    return [(start, end, value)], end


def _is_arm_list(value: object) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("value"), list):
        return False
    return all(key == "value" or key.lower() in ARM_LIST_EXTRA_KEYS for key in value)


def _is_rest_example(value: object) -> bool:
    """`{"parameters": ..., "responses": {"200": {"body": {"value": [...]}}}}`."""
    if not isinstance(value, dict) or set(value) - {"parameters", "responses", "title"}:
        return False
    body = value.get("responses", {})
    body = body.get("200", {}) if isinstance(body, dict) else None
    body = body.get("body") if isinstance(body, dict) else None
    return _is_arm_list(body)


def _key_offset(text: str, start: int, wanted: str) -> int:
    """Offset of the value under the (last, as json.loads keeps) `wanted` key of the
    object opening at `start`."""
    found = -1
    pos = _skip_ws(text, start + 1)
    while text[pos] != "}":
        key, pos = DECODER.raw_decode(text, pos)
        pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past ':'
        if key == wanted:
            found = pos
        _, pos = DECODER.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return found
