"""The result of normalising one item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import Warning


@dataclass(slots=True)
class EntityMention:
    """One entity as this alert mentions it.

    `props` holds the properties with PascalCase keys, without `$id`, `$ref`
    links and inline entities (those became relations); `original` is the
    object as sent. `strong_ids`/`weak_ids` are "<kind>|<id-type>|<value>".
    """

    index: int
    kind: str
    props: dict
    original: dict
    strong_ids: list[str] = field(default_factory=list)
    weak_ids: list[str] = field(default_factory=list)
    label: str = ""
    known: bool = True
    ref_id: str | None = None


@dataclass(slots=True)
class RelationMention:
    """A typed edge between two mentions; `target` is None for a dangling reference."""

    source: int
    target: int | None
    type: str
    target_ref: str | None
    prop: str
    in_cycle: bool = False


@dataclass(slots=True)
class Normalized:
    format: str
    key: str
    provider: str
    product: str
    vendor: str
    alert_type: str
    display_name: str
    description: str
    severity: str
    provider_status: str
    tactics: list[str]
    techniques: list[str]
    start_time: datetime | None
    end_time: datetime | None
    detected_time: datetime | None
    remediation_steps: list[str]
    extended_properties: dict
    extended_links: list[dict]
    compromised_entity: str
    resource_id: str
    workspace_subscription_id: str
    is_incident: bool
    incident_alert_ids: list[str]
    correlation_key: str
    alert_uri: str
    entities: list[EntityMention] = field(default_factory=list)
    relations: list[RelationMention] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
