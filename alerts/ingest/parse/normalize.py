"""Normalising one item (native, ARM, continuous export or Sentinel) into `Normalized`."""

from __future__ import annotations

import hashlib

from . import fields as F
from .entities import build_entities
from .errors import InvalidJSON, ItemRejected
from .formats import DEFAULT_PROVIDER, Fields, choose, read
from .model import Normalized
from .native import check_native
from .values import Context, needs_scrub, scrub

MAX_KEY = 512
MAX_KIND = 64
# Identifiers are indexed: past this length one is kept as a prefix and a digest.
MAX_IDENTIFIER = 400

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


def _display_name(raw: Fields) -> str:
    name = F.text(*raw["display_name"]).strip()
    if not name:
        raise ItemRejected("missing_display_name", "The alert has no display name (title); "
                           f"send {raw['display_name'][1]}.", raw["display_name"][1])
    return name


def _provider(raw: Fields) -> str:
    provider = F.text(*raw["provider"]).strip()
    if not provider and raw.format != "native":
        provider = F.text(*raw["product"]).strip()
    return provider or DEFAULT_PROVIDER[raw.format]


def _texts(raw: Fields) -> dict[str, str]:
    names = ("product", "vendor", "alert_type", "description", "compromised_entity",
             "resource_id", "workspace_subscription_id", "correlation_key", "alert_uri")
    return {name: F.text(*raw[name]).strip() for name in names}


def _build(raw: Fields, ctx: Context) -> Normalized:
    json_strings = raw.json_strings
    key, display_name = _key(raw), _display_name(raw)
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
        tactics=F.tactics(*raw["tactics"]),
        techniques=F.techniques(*raw["techniques"], ctx, json_strings),
        start_time=F.time(*raw["start_time"], ctx),
        end_time=F.time(*raw["end_time"], ctx),
        detected_time=F.time(*raw["detected_time"], ctx),
        remediation_steps=F.remediation_steps(*raw["remediation_steps"], ctx, json_strings),
        extended_properties=F.extended_properties(
            *raw["extended_properties"], ctx, json_strings, raw.strict),
        extended_links=F.extended_links(*raw["extended_links"], ctx, json_strings),
        is_incident=is_incident,
        incident_alert_ids=list(dict.fromkeys(incident_ids)),
        entities=entities.entities,
        relations=entities.relations,
        warnings=ctx.warnings,
        **_texts(raw),
    )


def _bounded(identifier: str) -> str:
    """An identifier short enough for an index: long ones become a prefix and a SHA-256."""
    if len(identifier) <= MAX_IDENTIFIER:
        return identifier
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{identifier[:120]}|sha256:{digest}"
