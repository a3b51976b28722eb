"""Flattening entity lists and resolving `$id`/`$ref` links into typed relations.

Every entity object (top-level or inline in another entity's property) gets a
position when its opening brace appears, and so does every `{"$ref": ...}`
object. A reference resolves to the nearest definition of its id *before* it
(else the first one after it: `forward_reference`); when the property wants a
kind (`Host` a host) and that definition is of another kind, the nearest
definition of the right kind is taken instead (before, then after), and if
there is none the link is dangling (`kind_mismatch`). See FORMATS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .identity import assign_identities
from .model import EntityMention, RelationMention
from .values import Context

KNOWN_KINDS = (
    "host", "account", "ip", "url", "dns", "file", "filehash", "process", "registry-key",
    "registry-value", "azure-resource", "mailbox", "malware", "host-logon-session",
    "cloud-application", "mail-message", "security-group", "iot-device", "submission-mail",
)
_KIND_BY_FOLDED = {kind.replace("-", ""): kind for kind in KNOWN_KINDS}
_KIND_BY_FOLDED.update({"ipaddress": "ip", "azureresources": "azure-resource"})
INCIDENT_ALERT_KINDS = ("alerts", "alert")

# Property name (normalised) -> kind it must point to.
PROP_KINDS = {
    "Host": "host", "Account": "account", "ImageFile": "file", "Image": "file",
    "ParentProcess": "process", "Process": "process", "Files": "file", "File": "file",
    "FileHashes": "filehash", "Key": "registry-key", "HostIpAddress": "ip",
    "SourceAddress": "ip", "DestinationAddress": "ip", "IpAdresses": "ip", "IpAddresses": "ip",
    "Malware": "malware", "Session": "host-logon-session", "LogonSession": "host-logon-session",
}
# (source kind, target kind) -> relation type; anything else is `refers_to`.
RELATION_TYPES = {
    ("process", "host"): "runs_on", ("process", "account"): "runs_as",
    ("process", "file"): "image", ("process", "process"): "parent",
    ("file", "filehash"): "has_hash", ("host-logon-session", "account"): "session_account",
    ("host-logon-session", "host"): "session_host", ("registry-value", "registry-key"): "in_key",
    ("dns", "ip"): "resolves_to", ("malware", "file"): "found_in",
}
# Lower-cased key -> PascalCase spelling, where "first letter upper-case" is not enough.
KEY_SPELLING = {key.lower(): key for key in (
    "AzureID", "OMSAgentID", "HostName", "NetBiosName", "DnsDomain", "NTDomain", "AadUserId",
    "AadTenantId", "Sid", "UPNSuffix", "PUID", "ObjectGuid", "ProcessId", "CommandLine",
    "CreationTimeUtc", "ElevationToken", "ImageFile", "ParentProcess", "FileHashes", "Directory",
    "HostIpAddress", "SourceAddress", "IpAdresses", "IpAddresses", "ResourceId", "DomainName",
    "MailboxPrimaryAddress", "SessionId", "StartTimeUtc", "EndTimeUtc", "ValueName", "ValueType",
    "OSFamily", "OSVersion", "LogonId", "IsDomainJoined", "AppId", "Url", "DisplayName",
    "UserPrincipalName", "IoTDeviceId", "DeviceId", "NetworkMessageId", "SubmissionId",
)}


def pascal_key(key: str) -> str:
    return KEY_SPELLING.get(key.lower()) or key[:1].upper() + key[1:]


def classify(type_name: str) -> tuple[str, bool]:
    """Canonical kind and whether it is known."""
    folded = type_name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    kind = _KIND_BY_FOLDED.get(folded)
    return (kind, True) if kind else (type_name.strip().lower() or "unknown", False)


def _type_of(obj: dict) -> object:
    for key, value in obj.items():
        if key.lower() == "type":
            return value
    return None


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and "$ref" in value and _type_of(value) is None


def _is_inline_entity(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    kind = _type_of(value)
    return isinstance(kind, str) and ("$id" in value or classify(kind)[1])


@dataclass(slots=True)
class _Ref:
    source: int | None  # None for a bare reference in the entity list
    prop: str
    ref_id: str
    pos: int


@dataclass
class EntityResult:
    entities: list[EntityMention] = field(default_factory=list)
    relations: list[RelationMention] = field(default_factory=list)
    incident_alert_ids: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, ctx: Context, field_name: str):
        self.ctx = ctx
        self.field = field_name
        self.result = EntityResult()
        self.refs: list[_Ref] = []
        self.inline: list[tuple[int, str, int]] = []
        self.defs: dict[str, list[tuple[int, int]]] = {}  # $id -> [(position, index)]
        self.pos = 0

    def next_pos(self) -> int:
        self.pos += 1
        return self.pos

    def add_top(self, item: object, i: int) -> None:
        if _is_ref(item):
            self.refs.append(_Ref(None, "", str(item["$ref"]), self.next_pos()))
        elif isinstance(item, dict):
            self.add_entity(item)
        else:
            self.ctx.warn("bad_entity", f"The entity {self.field}[{i}] is not an object and "
                          "was ignored.", f"{self.field}[{i}]")

    def add_entity(self, obj: dict) -> int | None:
        pos = self.next_pos()
        type_name = _type_of(obj)
        type_name = type_name if isinstance(type_name, str) else ""
        if type_name.strip().lower() in INCIDENT_ALERT_KINDS:
            self._collect_alert_ids(obj)
            return None
        kind, known = classify(type_name)
        if not known:
            self.ctx.warn_once("unknown_entity_type", kind, f"The entity type {kind!r} is not "
                               "known; its entities are kept as sent and never merged.",
                               self.field)
        index = len(self.result.entities)
        ref_id = obj.get("$id")
        ref_id = str(ref_id) if isinstance(ref_id, str | int) else None
        mention = EntityMention(index, kind, {}, obj, known=known, ref_id=ref_id)
        self.result.entities.append(mention)
        if ref_id is not None:
            self.defs.setdefault(ref_id, []).append((pos, index))
        for key, value in obj.items():
            if key.lower() != "type" and key not in ("$id", "$ref"):
                self._add_prop(mention, pascal_key(key), value)
        return index

    def _add_prop(self, mention: EntityMention, prop: str, value: object) -> None:
        if isinstance(value, list) and any(map(_is_link, value)):
            rest = [item for item in value if not self._add_link(mention.index, prop, item)]
            if rest:
                mention.props[prop] = rest
        elif not self._add_link(mention.index, prop, value):
            if mention.props.get(prop) in (None, "", [], {}):
                mention.props[prop] = value

    def _add_link(self, source: int, prop: str, value: object) -> bool:
        """Record a `$ref` or inline entity found in a property; False if it is neither."""
        if _is_ref(value):
            self.refs.append(_Ref(source, prop, str(value["$ref"]), self.next_pos()))
            return True
        if _is_inline_entity(value):
            target = self.add_entity(value)
            if target is not None:
                self.inline.append((source, prop, target))
            return True
        return False

    def _collect_alert_ids(self, obj: dict) -> None:
        for key, value in obj.items():
            if key.lower() == "systemalertids" and isinstance(value, list):
                self.result.incident_alert_ids.extend(v for v in value if isinstance(v, str))
            elif key.lower() == "systemalertid" and isinstance(value, str):
                self.result.incident_alert_ids.append(value)


def _is_link(value: object) -> bool:
    return _is_ref(value) or _is_inline_entity(value)


def build_entities(items: list, ctx: Context, field_name: str = "entities") -> EntityResult:
    """Entity mentions and relations of one alert, warnings added to `ctx`."""
    builder = _Builder(ctx, field_name)
    for i, item in enumerate(items):
        builder.add_top(item, i)
    result = builder.result
    _warn_duplicates(builder)
    for source, prop, target in builder.inline:
        result.relations.append(RelationMention(
            source, target, _relation_type(result, source, target, prop), None, prop))
    for ref in builder.refs:
        _resolve(builder, ref)
    _mark_cycles(result, ctx)
    result.incident_alert_ids = list(dict.fromkeys(result.incident_alert_ids))
    assign_identities(result.entities, result.relations)
    return result


def _warn_duplicates(builder: _Builder) -> None:
    for ref_id, defs in builder.defs.items():
        if len(defs) > 1:
            kinds = ", ".join(builder.result.entities[index].kind for _, index in defs)
            builder.ctx.warn("duplicate_id", f"The $id {ref_id!r} is used by {len(defs)} "
                             f"entities ({kinds}); references to it were resolved to the "
                             "nearest fitting one.", builder.field)


def _relation_type(result: EntityResult, source: int, target: int | None, prop: str) -> str:
    source_kind = result.entities[source].kind
    target_kind = result.entities[target].kind if target is not None else PROP_KINDS.get(prop)
    return RELATION_TYPES.get((source_kind, target_kind), "refers_to")


def _pick(builder: _Builder, ref: _Ref) -> tuple[tuple[int, int] | None, str | None]:
    """The chosen (position, index) definition for a reference, and a problem code."""
    defs = builder.defs.get(ref.ref_id, [])
    ordered = [d for d in reversed(defs) if d[0] < ref.pos] + [d for d in defs if d[0] > ref.pos]
    if not ordered:
        return None, "dangling_reference"
    want = PROP_KINDS.get(ref.prop)
    if want is None or builder.result.entities[ordered[0][1]].kind == want:
        return ordered[0], None
    fitting = [d for d in ordered if builder.result.entities[d[1]].kind == want]
    return (fitting[0], None) if fitting else (None, "kind_mismatch")


def _resolve(builder: _Builder, ref: _Ref) -> None:
    ctx, result = builder.ctx, builder.result
    chosen, problem = _pick(builder, ref)
    if ref.source is None:
        if chosen is None:
            ctx.warn("ref_in_entity_list", f"The entity list holds a bare reference to $id "
                     f"{ref.ref_id!r}, which no entity defines; it was ignored.", builder.field)
        return
    where = f"{builder.field}[{ref.source}].{ref.prop}"
    if chosen is None:
        message = (f"{where} refers to $id {ref.ref_id!r}, which no entity defines."
                   if problem == "dangling_reference" else
                   f"{where} refers to $id {ref.ref_id!r}, but no entity with that id is a "
                   f"{PROP_KINDS[ref.prop]}.")
        ctx.warn(problem, message + " The link was kept unresolved.", where)
        result.relations.append(RelationMention(
            ref.source, None, _relation_type(result, ref.source, None, ref.prop), ref.ref_id,
            ref.prop))
        return
    pos, target = chosen
    if target == ref.source:
        ctx.warn("self_reference", f"{where} refers to the entity itself ($id "
                 f"{ref.ref_id!r}); the link was ignored.", where)
        return
    if pos > ref.pos:
        ctx.warn("forward_reference", f"{where} refers to $id {ref.ref_id!r}, which is only "
                 "defined later in the list.", where)
    result.relations.append(RelationMention(
        ref.source, target, _relation_type(result, ref.source, target, ref.prop), ref.ref_id,
        ref.prop))


def _mark_cycles(result: EntityResult, ctx: Context) -> None:
    edges = [(r.source, r.target) for r in result.relations if r.target is not None]
    component = strongly_connected(len(result.entities), edges)
    looping = set()
    for relation in result.relations:
        if relation.target is not None and component[relation.source] == \
                component[relation.target]:
            relation.in_cycle = True
            looping.add(component[relation.source])
    for comp in sorted(looping):
        members = [m for m in result.entities if component[m.index] == comp]
        ctx.warn("reference_cycle", f"Entities refer to each other in a cycle ({len(members)} "
                 "entities, e.g. a process that is its own ancestor); the links were kept and "
                 "marked.", "entities")


def strongly_connected(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Component number of each node (Kosaraju, iterative)."""
    forward: list[list[int]] = [[] for _ in range(n)]
    backward: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        forward[a].append(b)
        backward[b].append(a)
    order, seen = [], [False] * n
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        stack = [(start, iter(forward[start]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if not seen[child]:
                    seen[child] = True
                    stack.append((child, iter(forward[child])))
                    break
            else:
                stack.pop()
                order.append(node)
    component = [-1] * n
    count = 0
    for start in reversed(order):
        if component[start] != -1:
            continue
        component[start] = count
        stack = [start]
        while stack:
            for parent in backward[stack.pop()]:
                if component[parent] == -1:
                    component[parent] = count
                    stack.append(parent)
        count += 1
    return component
