"""Normalising one item (native, ARM, continuous export or Sentinel) into `Normalized`."""

from __future__ import annotations

import hashlib
import json

from . import fields as F
from .entities import build_entities
from .errors import InvalidJSON, ItemRejected
from .formats import DEFAULT_PROVIDER, Fields, choose, read
from .model import Normalized
from .native import check_native
from .values import Context, needs_scrub, scrub

dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode

MAX_KEY = 512
MAX_KIND = 64
# Identifiers are indexed: past this length one is kept as a prefix and a digest.
MAX_IDENTIFIER = 400

# How much of each free-text field is stored and shown (docs/formats.md, "Lengths"): a
# longer value is cut with a `truncated` warning; the raw copy keeps it whole.
MAX_DISPLAY_NAME = 512
MAX_DESCRIPTION = 16_384
MAX_SHORT_TEXT = 512   # compromised entity, a tactic, a technique, a link's label
MAX_TEXT = 4_096       # a remediation step, an extended property, a link's href, an URI
MAX_ITEMS = 100        # remediation steps, tactics, techniques, extended properties, links

_ID_HINT = {"native": "id", "arm": "name (or id)", "export": "SystemAlertId",
            "sentinel": "SystemAlertId"}


def normalize(data: object, format: str | None = None,  # noqa: A002
              raw: bytes | None = None) -> Normalized:
    """Normalise one decoded item; raise ItemRejected when it cannot be accepted.

    `format` forces one of "native", "arm", "export", "sentinel"; by default
    the format is detected per item (see `formats`). `raw`, the item's bytes as
    sent, lets the common case skip the walk over every value (`values.needs_scrub`).
    """
    if isinstance(data, InvalidJSON):
        raise ItemRejected(data.code, data.message)
    if not isinstance(data, dict):
        raise ItemRejected("wrong_type", f"Each item must be a JSON object, not "
                           f"{F.type_name(data)}.")
    ctx = Context()
    if raw is None or needs_scrub(raw):
        data = scrub(data, ctx)
    fmt = choose(data, format)
    if fmt == "native":
        check_native(data, ctx)
    return _build(read(data, fmt), ctx)


def _key(raw: Fields) -> str:
    key, field = raw["key"]
    if isinstance(key, str) and key.strip():
        if len(key.strip()) > MAX_KEY:
            raise ItemRejected("wrong_value", f"The alert id is {len(key.strip())} characters "
                               f"long; at most {MAX_KEY} are accepted.", field)
        return key.strip()
    if key is None or key == "" or isinstance(key, str):
        raise ItemRejected("missing_id", f"The alert has no id: send {_ID_HINT[raw.format]} so "
                           "that a repeated delivery updates the same alert.", field)
    raise F.wrong_type(field, "a string", key)


def _display_name(raw: Fields, ctx: Context) -> str:
    name = F.text(*raw["display_name"]).strip()
    if not name:
        raise ItemRejected("missing_display_name", "The alert has no display name (title); "
                           f"send {raw['display_name'][1]}.", raw["display_name"][1])
    return cut(name, MAX_DISPLAY_NAME, raw["display_name"][1], ctx)


def cut(value: str, limit: int, field: str, ctx: Context) -> str:
    """`value`, or its first `limit` characters with a `truncated` warning."""
    if len(value) <= limit:
        return value
    ctx.warn("truncated", f"The field {field} is {len(value)} characters long; the first "
             f"{limit} are stored and shown (the raw alert keeps all of it).", field)
    return value[:limit]


def _cut_list(values: list, field: str, ctx: Context) -> list:
    if len(values) > MAX_ITEMS:
        ctx.warn("truncated", f"The field {field} has {len(values)} elements; the first "
                 f"{MAX_ITEMS} are stored and shown (the raw alert keeps all of them).", field)
        values = values[:MAX_ITEMS]
    return values


def _cut_texts(values: list[str], limit: int, field: str, ctx: Context) -> list[str]:
    return [cut(v, limit, f"{field}[{i}]", ctx) for i, v in enumerate(_cut_list(values, field,
                                                                              ctx))]


def _cut_properties(props: dict, field: str, ctx: Context) -> dict:
    items = _cut_list(list(props.items()), field, ctx)
    bounded = {}
    for key, value in items:
        name = cut(key, MAX_SHORT_TEXT, f"{field}.{key[:40]}", ctx)
        if not isinstance(value, str) and len(text := dumps(value)) > MAX_TEXT:
            value = text  # a large nested value is kept as (the start of) its JSON
        if isinstance(value, str):
            value = cut(value, MAX_TEXT, f"{field}.{key[:40]}", ctx)
        bounded[name] = value
    return bounded


def _cut_links(links: list[dict], field: str, ctx: Context) -> list[dict]:
    return [{key: cut(value, MAX_TEXT if key == "href" else MAX_SHORT_TEXT,
                      f"{field}[{i}].{key}", ctx) for key, value in link.items()}
            for i, link in enumerate(_cut_list(links, field, ctx))]


def _cut_entity(mention, field: str, ctx: Context) -> None:
    """Cut long strings in an entity's properties (as merged and as sent), once a warning."""
    long = False

    def bounded(value: object) -> object:
        nonlocal long
        if isinstance(value, str) and len(value) > MAX_TEXT:
            long = True
            return value[:MAX_TEXT]
        if isinstance(value, dict):
            return {k: bounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [bounded(v) for v in value]
        return value

    mention.props, mention.original = bounded(mention.props), bounded(mention.original)
    if long:
        ctx.warn("truncated", f"Properties of {field} longer than {MAX_TEXT} characters were "
                 "cut to that length (the raw alert keeps them whole).", field)


def _provider(raw: Fields) -> str:
    provider = F.text(*raw["provider"]).strip()
    if not provider and raw.format != "native":
        provider = F.text(*raw["product"]).strip()
    return provider or DEFAULT_PROVIDER[raw.format]


_TEXT_LIMITS = {"description": MAX_DESCRIPTION, "compromised_entity": MAX_SHORT_TEXT,
                "resource_id": MAX_TEXT, "alert_uri": MAX_TEXT}


def _texts(raw: Fields, ctx: Context) -> dict[str, str]:
    names = ("product", "vendor", "alert_type", "description", "compromised_entity",
             "resource_id", "workspace_subscription_id", "correlation_key", "alert_uri")
    texts = {name: F.text(*raw[name]).strip() for name in names}
    for name, limit in _TEXT_LIMITS.items():
        texts[name] = cut(texts[name], limit, raw[name][1], ctx)
    return texts


def _build(raw: Fields, ctx: Context) -> Normalized:
    json_strings = raw.json_strings
    key, display_name = _key(raw), _display_name(raw, ctx)
    severity = F.severity(*raw["severity"])
    entity_value, entity_field = raw["entities"]
    entities = build_entities(
        F.entity_list(entity_value, entity_field, ctx, json_strings), ctx, entity_field)
    incident_ids = entities.incident_alert_ids + F.text_list(*raw["incident_alert_ids"])
    is_incident = F.boolean(*raw["is_incident"], lenient=not raw.strict)
    if is_incident and not incident_ids:
        # Defender marks some single alerts isIncident (the ARM samples do): an incident
        # that lists no alerts is kept as the alert it is.
        is_incident = False
        ctx.warn("incident_without_alerts", "The item says it is an incident but lists no "
                 "alerts (no entities of type 'alerts'); it was stored as an alert.",
                 raw["is_incident"][1])
    for mention in entities.entities:
        _cut_entity(mention, f"entities[{mention.index}]", ctx)
        mention.kind = mention.kind[:MAX_KIND]
        mention.strong_ids = [_bounded(v) for v in mention.strong_ids]
        mention.weak_ids = [_bounded(v) for v in mention.weak_ids]
    return Normalized(
        format=raw.format,
        key=key,
        provider=_provider(raw),
        display_name=display_name,
        severity=severity,
        provider_status=F.status(*raw["status"]),
        tactics=_cut_texts(F.tactics(*raw["tactics"]), MAX_SHORT_TEXT, raw["tactics"][1], ctx),
        techniques=_cut_texts(F.techniques(*raw["techniques"], ctx, json_strings),
                              MAX_SHORT_TEXT, raw["techniques"][1], ctx),
        start_time=F.time(*raw["start_time"], ctx),
        end_time=F.time(*raw["end_time"], ctx),
        detected_time=F.time(*raw["detected_time"], ctx),
        remediation_steps=_cut_texts(
            F.remediation_steps(*raw["remediation_steps"], ctx, json_strings), MAX_TEXT,
            raw["remediation_steps"][1], ctx),
        extended_properties=_cut_properties(F.extended_properties(
            *raw["extended_properties"], ctx, json_strings, raw.strict),
            raw["extended_properties"][1], ctx),
        extended_links=_cut_links(F.extended_links(*raw["extended_links"], ctx, json_strings),
                                  raw["extended_links"][1], ctx),
        is_incident=is_incident,
        incident_alert_ids=list(dict.fromkeys(incident_ids)),
        entities=entities.entities,
        relations=entities.relations,
        warnings=ctx.warnings,
        **_texts(raw, ctx),
    )


def _bounded(identifier: str) -> str:
    """An identifier short enough for an index: long ones become a prefix and a SHA-256."""
    if len(identifier) <= MAX_IDENTIFIER:
        return identifier
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{identifier[:120]}|sha256:{digest}"
