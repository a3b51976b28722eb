"""Detecting an item's format and reading its fields under canonical names.

Detection, in order (the first rule that fits wins):

1. A Defender assessment or secure-score record (ARM `type`
   `Microsoft.Security/assessments...` or `.../secureScores...`, or keys such
   as `assessmentKey`, `resourceDetails` with `status.code`, `secureScore`,
   `score.max`) is rejected with `not_an_alert`.
2. `arm`: a `properties` object, and a `type` containing "alerts" or an `id`
   starting with "/subscriptions/".
3. `native`: lower-case keys, at least two of `id`, `display_name`, `severity`.
4. PascalCase (`SystemAlertId`, `AlertDisplayName` or `AlertName`, keys compared
   case-insensitively): `sentinel` when the row carries a Log Analytics column
   (`Type` == "SecurityAlert", `TenantId`, `SourceSystem`,
   `WorkspaceSubscriptionId`, `AlertSeverity`, `ProviderName`) or when
   `Entities`/`ExtendedProperties` are JSON strings; otherwise `export`.
   The two are read by one tolerant reader (every alias of both, JSON strings
   decoded in both), so a row put in the wrong one of the two only gets the
   wrong `format` label and default provider, never different data.
5. Anything else is rejected with `not_an_alert`.

A forced format must agree with what the item clearly is (`export` and
`sentinel` are interchangeable); an item that fits no format is read in the
forced one so that the producer learns which field is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import fields as F
from .errors import ItemRejected
from .native import NATIVE_KEYS

FORMATS = ("native", "arm", "export", "sentinel")
PASCAL = ("export", "sentinel")
_SENTINEL_COLUMNS = ("tenantid", "sourcesystem", "workspacesubscriptionid", "alertseverity",
                     "providername")

ARM_ALIASES = {
    "display_name": ("alertDisplayName", "displayName"),
    "severity": ("severity", "reportedSeverity"),
    "alert_type": ("alertType",), "description": ("description",),
    "product": ("productName",), "vendor": ("vendorName",), "provider": ("providerName",),
    "status": ("status",), "tactics": ("intent", "tactics"), "techniques": ("techniques",),
    "start_time": ("startTimeUtc",), "end_time": ("endTimeUtc",),
    "detected_time": ("timeGeneratedUtc",), "remediation_steps": ("remediationSteps",),
    "extended_properties": ("extendedProperties",), "extended_links": ("extendedLinks",),
    "compromised_entity": ("compromisedEntity",), "is_incident": ("isIncident",),
    "correlation_key": ("correlationKey",), "alert_uri": ("alertUri",),
    "entities": ("entities",),
}
PASCAL_ALIASES = {
    "key": ("SystemAlertId",),
    "display_name": ("AlertDisplayName", "DisplayName", "AlertName"),
    "severity": ("AlertSeverity", "Severity"),
    "alert_type": ("AlertType",), "description": ("Description",),
    "product": ("ProductName",), "vendor": ("VendorName",), "provider": ("ProviderName",),
    "status": ("Status",), "tactics": ("Tactics", "Intent"), "techniques": ("Techniques",),
    "start_time": ("StartTimeUtc", "StartTime"), "end_time": ("EndTimeUtc", "EndTime"),
    "detected_time": ("TimeGenerated", "TimeGeneratedUtc"),
    "remediation_steps": ("RemediationSteps",),
    "extended_properties": ("ExtendedProperties",), "extended_links": ("ExtendedLinks",),
    "compromised_entity": ("CompromisedEntity",), "is_incident": ("IsIncident",),
    "correlation_key": ("CorrelationKey",), "alert_uri": ("AlertUri", "AlertLink"),
    "entities": ("Entities",), "resource_id": ("AzureResourceId", "ResourceId"),
    "workspace_subscription_id": ("WorkspaceSubscriptionId",),
}
DEFAULT_PROVIDER = {"arm": "Microsoft Defender for Cloud", "export": "Microsoft Defender for Cloud",
                    "sentinel": "Microsoft Sentinel", "native": "native"}


class Reader:
    """Case-insensitive access to an object's keys, reporting the field path as sent."""

    def __init__(self, obj: dict, prefix: str = ""):
        self.obj = obj
        self.prefix = prefix
        self.keys: dict[str, str] = {}
        for key in obj:
            self.keys.setdefault(key.lower(), key)

    def has(self, name: str) -> bool:
        return name.lower() in self.keys

    def get(self, *names: str) -> tuple[object, str]:
        for name in names:
            key = self.keys.get(name.lower())
            if key is not None and self.obj[key] is not None:
                return self.obj[key], self.prefix + key
        return None, self.prefix + names[0]


@dataclass
class Fields:
    """Raw values under canonical names, each with the field path to report."""

    format: str
    values: dict[str, tuple[object, str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> tuple[object, str]:
        return self.values.get(name, (None, name))

    @property
    def json_strings(self) -> bool:
        return self.format in PASCAL

    @property
    def strict(self) -> bool:
        return self.format == "native"


def not_an_alert(message: str) -> ItemRejected:
    return ItemRejected("not_an_alert", message)


def detect(data: dict) -> str:
    """The format of one item; raise ItemRejected(`not_an_alert`) when it is none."""
    _reject_non_alerts(data)
    fmt = _detect(data)
    if fmt is None:
        raise not_an_alert("This item is not an alert in any accepted format (native, ARM, "
                           "continuous export or Sentinel SecurityAlert).")
    return fmt


def choose(data: dict, forced: str | None) -> str:
    """The format to read the item in, honouring a forced format when it fits."""
    if forced is None:
        return detect(data)
    if forced not in FORMATS:
        raise ItemRejected("wrong_format", f"The format {forced!r} is unknown; use one of "
                           f"{', '.join(FORMATS)}.")
    _reject_non_alerts(data)
    fmt = _detect(data)
    if fmt is None or fmt == forced or (fmt in PASCAL and forced in PASCAL):
        return forced
    raise ItemRejected("wrong_format", f"The item was sent as the {forced} format but looks "
                       f"like the {fmt} format.")


def _detect(data: dict) -> str | None:
    reader = Reader(data)
    props = data.get("properties")
    kind, _ = reader.get("type")
    ident, _ = reader.get("id")
    if isinstance(props, dict) and (
            (isinstance(kind, str) and "alerts" in kind.lower())
            or (isinstance(ident, str) and ident.lower().startswith("/subscriptions/"))):
        return "arm"
    if sum(key in data for key in ("id", "display_name", "severity")) >= 2:
        return "native"
    if any(reader.has(k) for k in ("SystemAlertId", "AlertDisplayName", "AlertName")):
        return "sentinel" if _looks_sentinel(reader) else "export"
    return None


def _looks_sentinel(reader: Reader) -> bool:
    kind, _ = reader.get("Type")
    if isinstance(kind, str) and kind.lower() == "securityalert":
        return True
    if any(reader.has(column) for column in _SENTINEL_COLUMNS):
        return True
    return any(isinstance(reader.get(k)[0], str) for k in ("Entities", "ExtendedProperties"))


def _reject_non_alerts(data: dict) -> None:
    for reader in _readers(data):
        kind, _ = reader.get("type")
        kind = kind.lower() if isinstance(kind, str) else ""
        status, _ = reader.get("status")
        if "microsoft.security/assessments" in kind or reader.has("assessmentKey") or (
                reader.has("resourceDetails") and isinstance(status, dict) and "code" in status):
            raise not_an_alert("This is a Defender assessment record, not an alert; "
                               "send alerts only.")
        score, _ = reader.get("score")
        score_shaped = bool(reader.prefix) and isinstance(score, dict) and "max" in score
        if "securescore" in kind or reader.has("secureScore") or score_shaped:
            raise not_an_alert("This is a Defender secure score record, not an alert; "
                               "send alerts only.")


def _readers(data: dict) -> list[Reader]:
    props = data.get("properties")
    readers = [Reader(data)]
    if isinstance(props, dict):
        readers.append(Reader(props, "properties."))
    return readers


def read(data: dict, fmt: str) -> Fields:
    """Raw values of the item under canonical names."""
    if fmt == "arm":
        return _read_arm(data)
    if fmt == "native":
        values = {name: (data.get(name), name) for name in NATIVE_KEYS}
        values["key"] = values["id"]
        return Fields(fmt, values)
    return _read_pascal(data, fmt)


def _read_aliases(reader: Reader, aliases: dict) -> dict[str, tuple[object, str]]:
    return {name: reader.get(*keys) for name, keys in aliases.items()}


def _read_arm(data: dict) -> Fields:
    props = data.get("properties")
    if not isinstance(props, dict):
        raise F.wrong_type("properties", "an object", props)
    out = Fields("arm", _read_aliases(Reader(props, "properties."), ARM_ALIASES))
    out.values["key"] = _arm_key(data)
    identifiers, where = Reader(props, "properties.").get("resourceIdentifiers")
    out.values.update(_resource_identifiers(identifiers, where))
    return out


def _arm_key(data: dict) -> tuple[object, str]:
    name = data.get("name")
    if name is not None:
        return name, "name"
    ident = data.get("id")
    if isinstance(ident, str):
        return ident.rstrip("/").rsplit("/", 1)[-1], "id"
    return ident, "id"


def _read_pascal(data: dict, fmt: str) -> Fields:
    reader = Reader(data)
    out = Fields(fmt, _read_aliases(reader, PASCAL_ALIASES))
    identifiers, where = reader.get("ResourceIdentifiers")
    found = _resource_identifiers(identifiers, where)
    for name in ("resource_id", "workspace_subscription_id"):
        if out.values[name][0] in (None, "") and name in found:
            out.values[name] = found[name]
    return out


def _resource_identifiers(value: object, field: str) -> dict[str, tuple[object, str]]:
    """`resource_id` and `workspace_subscription_id` from a resourceIdentifiers list."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise F.wrong_type(field, "an array", value)
    found: dict[str, tuple[object, str]] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            continue
        reader = Reader(item, f"{field}[{i}].")
        kind, _ = reader.get("type")
        kind = kind.lower() if isinstance(kind, str) else ""
        if kind == "azureresource" and "resource_id" not in found:
            found["resource_id"] = reader.get("azureResourceId")
        elif kind == "loganalytics" and "workspace_subscription_id" not in found:
            found["workspace_subscription_id"] = reader.get("workspaceSubscriptionId")
    return found
