"""Value helpers shared by the format readers: context, scrubbing, times, tactics."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from socconsole.lib.jsonsafe import MAX_DEPTH

from .errors import ItemRejected, Warning

MAX_STRING_BYTES = 1_048_576
SEVERITIES = ("high", "medium", "low", "informational")
TACTICS = (
    "InitialAccess", "Execution", "Persistence", "PrivilegeEscalation", "DefenseEvasion",
    "CredentialAccess", "Discovery", "LateralMovement", "Collection", "Exfiltration",
    "CommandAndControl", "Impact", "PreAttack", "Probing", "Exploitation", "Unknown",
)
_TACTIC_BY_FOLDED = {t.lower(): t for t in TACTICS}
_FOLD = re.compile(r"[\s_\-]+")


class Context:
    """Warnings collected while normalising one item."""

    def __init__(self) -> None:
        self.warnings: list[Warning] = []
        self._seen: set[tuple[str, str]] = set()

    def warn(self, code: str, message: str, field: str | None = None) -> None:
        self.warnings.append(Warning(code, message, field))

    def warn_once(self, code: str, key: str, message: str, field: str | None = None) -> None:
        if (code, key) not in self._seen:
            self._seen.add((code, key))
            self.warn(code, message, field)


def join_path(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# A number JSON can write but no double can hold (1e400, or 309 digits and a fraction)
# decodes as infinity, which no JSON column can store.
_HUGE_NUMBER = re.compile(rb"[0-9][eE]\+?[0-9]{3}|[0-9]{309}")


def needs_scrub(raw: bytes) -> bool:
    """False when the item's bytes prove `scrub` would find nothing: no string can be
    over 1 MB, JSON cannot nest deeper than its brackets, NULs and surrogates can only
    arrive escaped (raw control characters and invalid UTF-8 are not JSON), and an infinite
    number needs a long exponent or 309 digits."""
    return (len(raw) > MAX_STRING_BYTES or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH
            or b"\\u0000" in raw or _SURROGATE_ESCAPE.search(raw) is not None
            or _HUGE_NUMBER.search(raw) is not None)


def scrub(data: object, ctx: Context, root: str = "") -> object:
    """Check sizes and depth of `data` and return it with NUL characters removed.

    Rejects strings over 1 MB (`field_too_large`), nesting over 64 levels
    (`too_deep`) and numbers no double holds (`invalid_value`); warns `nul_byte` once.
    Iterative, so deep input cannot recurse.
    """
    has_nul = has_surrogate = False
    stack: list[tuple[object, str, int]] = [(data, root, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_size(value, path)
            has_nul = has_nul or "\x00" in value
            has_surrogate = has_surrogate or _has_surrogate(value)
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ItemRejected("invalid_value", f"The number in {path or 'the item'} is "
                                   "out of range: it is larger than a double can hold "
                                   "(about 1.8e308).", path or None)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise ItemRejected(
                "too_deep", f"The item nests JSON deeper than {MAX_DEPTH} levels.", path or None)
        if isinstance(value, dict):
            for key, child in value.items():
                _check_size(key, join_path(path, key[:40]))
                has_nul = has_nul or "\x00" in key
                has_surrogate = has_surrogate or _has_surrogate(key)
                stack.append((child, join_path(path, key), depth + 1))
        else:
            stack.extend((child, join_path(path, i), depth + 1) for i, child in enumerate(value))
    if has_surrogate:
        # A lone surrogate (e.g. "\\ud800") is valid JSON but not storable text.
        ctx.warn_once("bad_unicode", root, "The item contains lone UTF-16 surrogates; they were "
                      "replaced by U+FFFD in the normalised alert but kept in the raw copy.",
                      root or None)
    if not has_nul and not has_surrogate:
        return data
    if has_nul:
        ctx.warn_once("nul_byte", root, "The item contains NUL characters (\\u0000); they "
                      "were removed from the normalised alert but kept in the raw copy.",
                      root or None)
    return _clean(data)


def _has_surrogate(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _clean_text(value: str) -> str:
    value = value.replace("\x00", "")
    if _has_surrogate(value):
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _check_size(value: str, path: str) -> None:
    # A str of n characters encodes to at most 4n bytes: skip the encode when small.
    if len(value) * 4 > MAX_STRING_BYTES and len(value.encode("utf-8", "surrogatepass")) > \
            MAX_STRING_BYTES:
        raise ItemRejected(
            "field_too_large", f"The field {path or 'value'} is larger than 1 MB "
            f"({MAX_STRING_BYTES} bytes of UTF-8); shorten it.", path or None)


def _clean(value: object) -> object:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(key): _clean(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_clean(child) for child in value]
    return value


def parse_time(value: str, ctx: Context, field: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; naive times are taken as UTC."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        # Times at the edge of the calendar cannot be moved to UTC (0001-01-01+05:00).
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        ctx.warn("bad_time", f"The time in {field} ({text[:60]!r}) is not an ISO 8601 time "
                 "this console can store; it was ignored.", field)
        return None


def iso_second(value: str) -> str:
    """A time string normalised to ISO UTC with second precision, for identifiers."""
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):
        return value.strip().lower()


def canonical_tactic(name: str) -> str:
    """The FORMATS.md spelling of a kill-chain stage, or the name as sent."""
    return _TACTIC_BY_FOLDED.get(_FOLD.sub("", name).lower(), name)


def split_tactics(text: str) -> list[str]:
    return [canonical_tactic(part.strip()) for part in text.split(",") if part.strip()]


def dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
