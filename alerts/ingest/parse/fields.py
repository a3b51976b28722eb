"""Typed field coercion: turn one raw value into its normalised form or reject it."""

from __future__ import annotations

from datetime import datetime

from socconsole.lib import jsonsafe

from .errors import ItemRejected
from .values import SEVERITIES, Context, canonical_tactic, parse_time, scrub, split_tactics

_JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
                    int: "a number", float: "a number", type(None): "null"}
SCALARS = (str, int, float, bool, type(None))
LINK_KEYS = ("href", "label", "category", "type")


def type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def wrong_type(field: str, expected: str, value: object) -> ItemRejected:
    return ItemRejected(
        "wrong_type", f"The field {field} must be {expected}, not {type_name(value)}.", field)


def text(value: object, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise wrong_type(field, "a string", value)
    return value


def text_list(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise wrong_type(field, "an array of strings", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise wrong_type(f"{field}[{i}]", "a string", item)
    return [item.strip() for item in value if item.strip()]


def boolean(value: object, field: str, lenient: bool) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if lenient and isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
        return value.strip().lower() == "true"
    raise wrong_type(field, "true or false", value)


def time(value: object, field: str, ctx: Context) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong_type(field, "an ISO 8601 time string", value)
    return parse_time(value, ctx, field)


def severity(value: object, field: str) -> str:
    if value is None or value == "":
        raise ItemRejected("unknown_severity", "The alert has no severity; send one of High, "
                           "Medium, Low or Informational.", field)
    if not isinstance(value, str):
        raise wrong_type(field, "a string (High, Medium, Low or Informational)", value)
    if value.strip().lower() not in SEVERITIES:
        raise ItemRejected("unknown_severity", f"The severity {value[:40]!r} is not one of High, "
                           "Medium, Low or Informational.", field)
    return value.strip().lower()


def status(value: object, field: str) -> str:
    folded = text(value, field).strip().lower().replace(" ", "")
    return "in_progress" if folded == "inprogress" else folded.replace("-", "_")


def tactics(value: object, field: str) -> list[str]:
    if isinstance(value, str):
        return split_tactics(value)
    found = []
    for item in text_list(value, field):
        found.extend(split_tactics(item) if "," in item else [canonical_tactic(item)])
    return list(dict.fromkeys(found))


def decode_json_string(value: str, field: str, ctx: Context) -> tuple[bool, object]:
    """Decode a JSON-string column; (True, None) for an empty string, (False, value) if bad."""
    if not value.strip():
        return True, None
    try:
        decoded = jsonsafe.loads(value)
    except ValueError as exc:
        ctx.warn("undecodable_field", f"The field {field} is a string that is not valid JSON "
                 f"({jsonsafe.describe(exc)}); it was kept as text.", field)
        return False, value
    return True, scrub(decoded, ctx, field)


def techniques(value: object, field: str, ctx: Context, json_strings: bool) -> list[str]:
    if isinstance(value, str) and json_strings:
        if value.lstrip().startswith("["):
            ok, value = decode_json_string(value, field, ctx)
            if not ok:
                return []
        else:
            return [part.strip() for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(text_list(value, field)))


def remediation_steps(value: object, field: str, ctx: Context, json_strings: bool) -> list[str]:
    if isinstance(value, str) and json_strings:
        if value.lstrip().startswith(("[", '"')):
            ok, decoded = decode_json_string(value, field, ctx)
            value = decoded if ok else value
        if isinstance(value, str):
            return [line.strip() for line in value.splitlines() if line.strip()]
    return text_list(value, field)


def extended_properties(value: object, field: str, ctx: Context, json_strings: bool,
                        strict: bool) -> dict:
    if isinstance(value, str) and json_strings:
        ok, value = decode_json_string(value, field, ctx)
        if not ok:
            return {"raw": value}
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong_type(field, "an object", value)
    if strict:
        for key, item in value.items():
            if not isinstance(item, SCALARS):
                raise wrong_type(f"{field}.{key}", "a string, number, boolean or null", item)
    return dict(value)


def extended_links(value: object, field: str, ctx: Context, json_strings: bool) -> list[dict]:
    if isinstance(value, str) and json_strings:
        ok, value = decode_json_string(value, field, ctx)
        if not ok:
            return []
    if value is None:
        return []
    if not isinstance(value, list):
        raise wrong_type(field, "an array of links", value)
    return [_link(item, f"{field}[{i}]") for i, item in enumerate(value)]


def _link(item: object, field: str) -> dict:
    if not isinstance(item, dict):
        raise wrong_type(field, "an object with href, label, category and type", item)
    by_lower = {key.lower(): val for key, val in item.items()}
    return {key: text(by_lower.get(key), f"{field}.{key}") for key in LINK_KEYS}


MAX_ENTITIES = 1000


def entity_list(value: object, field: str, ctx: Context, json_strings: bool) -> list:
    if isinstance(value, str) and json_strings:
        ok, value = decode_json_string(value, field, ctx)
        if not ok:
            return []
    if value is None:
        return []
    if not isinstance(value, list):
        raise wrong_type(field, "an array of entities", value)
    if len(value) > MAX_ENTITIES:
        raise ItemRejected("too_many_entities", f"The alert lists {len(value)} entities; at "
                           f"most {MAX_ENTITIES} are accepted.", field)
    return value
