"""The native alert format: our own documented, snake_case JSON object.

One alert is one JSON object. A body may hold one object, an array of them,
`{"value": [...]}`, or NDJSON (one object a line, `application/x-ndjson`).

| field | type | required | meaning |
| --- | --- | --- | --- |
| `id` | string, 1..200 characters | yes | the producer's id of the alert; sending the same id again counts another occurrence of that alert (occurrence count and last seen go up; its fields are kept as first sent) |
| `display_name` | string | yes | the alert's title |
| `severity` | string | yes | `high`, `medium`, `low` or `informational` (any case) |
| `alert_type` | string | no | the detection's type, stable across alerts of one kind (e.g. `SSH_BruteForce`) |
| `description` | string | no | what was detected, in full sentences |
| `provider` | string | no | the product or rule engine that raised it; default `native` |
| `product` | string | no | product name |
| `vendor` | string | no | vendor name |
| `status` | string | no | `active`, `dismissed`, `resolved` or `in_progress` |
| `tactics` | array of strings | no | kill-chain stages, e.g. `["InitialAccess", "Execution"]` (any case; known names are stored in their canonical spelling) |
| `techniques` | array of strings | no | MITRE ATT&CK technique ids, e.g. `["T1059"]` |
| `start_time` | string, ISO 8601 | no | start of the activity; a time without offset is UTC |
| `end_time` | string, ISO 8601 | no | end of the activity |
| `detected_time` | string, ISO 8601 | no | when the producer detected it |
| `resource_id` | string | no | Azure resource id (or another stable resource id) the alert is about |
| `compromised_entity` | string | no | display name of the affected resource, e.g. a host name |
| `remediation_steps` | array of strings | no | steps, one string each |
| `extended_properties` | object of string to string/number/boolean/null | no | extra facts shown with the alert |
| `extended_links` | array of objects `{href, label, category, type}` (strings) | no | links shown with the alert |
| `entities` | array of entity objects | no | hosts, accounts, IPs, files, processes…, in the Defender/Sentinel entity shape: a `type` (or `Type`) such as `host`, `account`, `ip`, `process`, plus its properties (`HostName`, `Name`, `Address`, `CommandLine`…, PascalCase or camelCase); an entity may carry `"$id": "<n>"` and another may point to it with `{"$ref": "<n>"}` in a property such as `Host`, `Account`, `ImageFile`, `ParentProcess` |
| `is_incident` | boolean | no | true when the item is the producer's own incident grouping other alerts; its `alerts` entities (`SystemAlertIds`) or `incident_alert_ids` list them |
| `incident_alert_ids` | array of strings | no | for an incident: the ids of the alerts it groups |
| `correlation_key` | string | no | alerts with the same key belong together |
| `alert_uri` | string | no | link back to the alert in the producer's console |
| `workspace_subscription_id` | string | no | subscription of the workspace that produced the alert |

Unknown keys are accepted and reported as `unknown_key` warnings; a value of
the wrong type rejects the item (`wrong_type`, with the field).
"""  # noqa: E501

from __future__ import annotations

from .errors import ItemRejected
from .values import Context

NATIVE_KEYS = (
    "id", "display_name", "severity", "alert_type", "description", "provider", "product",
    "vendor", "status", "tactics", "techniques", "start_time", "end_time", "detected_time",
    "resource_id", "compromised_entity", "remediation_steps", "extended_properties",
    "extended_links", "entities", "is_incident", "incident_alert_ids", "correlation_key",
    "alert_uri", "workspace_subscription_id",
)
NATIVE_STATUSES = ("active", "dismissed", "resolved", "in_progress")
MAX_ID_LENGTH = 200


def check_native(data: dict, ctx: Context) -> None:
    """Checks that only the native format makes: known keys, id length, status values."""
    for key in data:
        if key not in NATIVE_KEYS:
            ctx.warn("unknown_key", f"The field {key} is not part of the native format and "
                     "was ignored (it is kept in the raw alert).", key)
    ident = data.get("id")
    if isinstance(ident, str) and len(ident.strip()) > MAX_ID_LENGTH:
        raise ItemRejected("wrong_value", f"The id is {len(ident)} characters long; it must be "
                           f"at most {MAX_ID_LENGTH}.", "id")
    status = data.get("status")
    if isinstance(status, str) and status.strip().lower() not in NATIVE_STATUSES:
        raise ItemRejected("wrong_value", f"The status {status[:40]!r} is not one of "
                           f"{', '.join(NATIVE_STATUSES)}.", "status")
