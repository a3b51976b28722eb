"""JSON decoding that refuses deep nesting before Python's parser recurses into it."""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64

# A whole JSON string (escapes included) or one bracket. Strings are matched as a
# unit so that brackets inside them are not counted.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JSONTooDeep(ValueError):
    """The document nests arrays/objects deeper than MAX_DEPTH."""

    def __init__(self, limit: int = MAX_DEPTH):
        super().__init__(f"JSON is nested deeper than {limit} levels.")
        self.limit = limit


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON.")


DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def max_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of `text`, scanned without recursion; stops early past `limit`."""
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def value_extent(text: str, pos: int) -> tuple[int, int | None]:
    """(depth, end) of the array/object opening at `pos`, scanned without recursion;
    (0, None) when `pos` holds a scalar, end None when it never closes."""
    if text[pos] not in "[{":
        return 0, None
    depth = deepest = 0
    for match in _TOKEN.finditer(text, pos):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return deepest, match.end()
    return deepest, None


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    if max_depth(text, limit) > limit:
        raise JSONTooDeep(limit)


def loads(text: str | bytes, limit: int = MAX_DEPTH) -> object:
    """`json.loads` that raises JSONTooDeep instead of recursing deeply.

    Raises JSONTooDeep, or ValueError (json.JSONDecodeError included) for invalid
    JSON and for NaN/Infinity, which are not JSON.
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    check_depth(text, limit)
    try:
        return DECODER.decode(text)
    except RecursionError:
        raise JSONTooDeep(limit) from None


def describe(exc: ValueError) -> str:
    """A short sentence for a decoding error."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}."
    return str(exc)


def nul_path(data: object) -> str | None:
    """The dotted path of the first key or string in `data` holding a NUL character
    ("" for the top level), or None. Iterative, as `data` may be deep."""
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return child.replace("\x00", "")
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item)
                         for i, item in enumerate(value))
    return None
