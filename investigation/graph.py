"""The investigation map as a networkx graph: what it holds, how it is built and saved.

Node ids are strings that say what a node is:

    incident:<pk>  alert:<pk>  entity:<pk>      rows of this subscription
    dangling:<entity pk>:<digest>               a reference an alert did not define
    group:alerts  group:<kind>                  a huge incident, collapsed, with counts
    more:<node id>                              "+N more" left over from expanding a node
    ev:<kind>:<digest>                          a host, account, IP or process known only
                                                from the workspace's security events

Everything shown was read through a query filtered by the investigation's subscription;
the saved state is the only input of the drawing, so a continued investigation shows
exactly what was left (positions included) without re-reading the database.
"""

import hashlib
import io
import json

import networkx as nx
from django.db.models import Count, Q

from alerts.models import Alert, AlertEntity, Entity, Relation
from incidents.models import Incident, IncidentAlert
from socconsole.lib.ids import parse_id

STATE_VERSION = 1
# A map larger than this opens collapsed by kind (a huge incident still opens).
MAX_ALERTS_SHOWN = 60
MAX_ENTITIES_SHOWN = 120
HISTORY_LIMIT = 100

KIND_ORDER = ["incident", "alert", "host", "account", "ip", "host-logon-session", "process",
              "file", "filehash", "url", "dns", "azure-resource", "registry-key",
              "registry-value", "mailbox", "malware", "group", "more", "dangling"]
RELATION_LABELS = {
    "runs_on": "ran on", "runs_as": "ran as", "image": "image file",
    "parent": "parent process", "has_hash": "has hash", "session_account": "session of",
    "session_host": "session on", "in_key": "in key", "resolves_to": "resolved to",
    "found_in": "found in", "refers_to": "refers to",
}


def kind_rank(kind):
    try:
        return KIND_ORDER.index(kind)
    except ValueError:
        return len(KIND_ORDER)


def digest(*parts):
    return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def db_ref(node_id):
    """("entity", 12) for "entity:12"; (None, None) for nodes that are not rows."""
    prefix, _, rest = node_id.partition(":")
    pk = parse_id(rest)
    if prefix in ("incident", "alert", "entity") and pk:
        return prefix, pk
    return None, None


class Map:
    """The graph shown, with its layout and history. `g` is a networkx MultiDiGraph whose
    edge keys are relation names; node attributes: kind, label and, as they apply, sev
    (alerts, incidents), count (groups, "+N more"), parent ("+N more"), props (nodes that
    are not rows), origin ("events"), seen_in (other incidents), known, events (what the
    security events say of an entity's node: logons, runs, last seen)."""

    def __init__(self, root=""):
        self.g = nx.MultiDiGraph()
        self.root = root
        self.positions = {}
        self.expanded = []
        self.selected = ""
        self.history = []

    # Building

    def add_node(self, node_id, kind, label, **attrs):
        """Add a node; False when it is already shown (its attributes then merge)."""
        if node_id in self.g:
            self.g.nodes[node_id].update({k: v for k, v in attrs.items() if v is not None})
            return False
        self.g.add_node(node_id, kind=kind, label=str(label),
                        **{k: v for k, v in attrs.items() if v is not None})
        return True

    def add_edge(self, source, target, relation):
        if source == target or source not in self.g or target not in self.g or \
                self.g.has_edge(source, target, key=relation):
            return False
        self.g.add_edge(source, target, key=relation)
        return True

    def remove_node(self, node_id):
        self.g.remove_node(node_id)
        self.positions.pop(node_id, None)

    def ids_of(self, prefix):
        """The database ids of the shown nodes of one kind ("alert", "entity", "incident")."""
        out = []
        for node_id in self.g:
            kind, pk = db_ref(node_id)
            if kind == prefix:
                out.append(pk)
        return out

    def edges(self):
        return [(s, t, k) for s, t, k in self.g.edges(keys=True)]

    def node(self, node_id):
        return self.g.nodes[node_id]

    # Saving

    def to_state(self):
        return {
            "v": STATE_VERSION, "root": self.root,
            "nodes": [[n, dict(a)] for n, a in self.g.nodes(data=True)],
            "edges": [list(e) for e in self.edges()],
            "positions": {n: list(p) for n, p in self.positions.items()},
            "expanded": list(self.expanded), "selected": self.selected,
            "history": self.history[-HISTORY_LIMIT:],
        }

    @classmethod
    def from_state(cls, state):
        """The map a saved state describes. Whatever does not fit the shape (a hand-edited
        or damaged state) is left out rather than trusted: a node needs a string id, kind
        and label; an edge needs both ends; a position needs two numbers."""
        inv_map = cls()
        if not isinstance(state, dict):
            return inv_map
        inv_map.root = state.get("root") if isinstance(state.get("root"), str) else ""
        for item in _list(state.get("nodes")):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], dict)):
                continue
            attrs = item[1]
            if not isinstance(attrs.get("kind"), str) or not isinstance(attrs.get("label"), str):
                continue
            clean = {k: v for k, v in attrs.items() if k in _ATTR_TYPES
                     and isinstance(v, _ATTR_TYPES[k])}
            inv_map.g.add_node(item[0], **clean)
        for item in _list(state.get("edges")):
            if isinstance(item, list) and len(item) == 3 and all(isinstance(x, str)
                                                                 for x in item):
                inv_map.add_edge(*item)
        positions = state.get("positions")
        for node_id, xy in (positions.items() if isinstance(positions, dict) else ()):
            if node_id in inv_map.g and _point(xy):
                inv_map.positions[node_id] = (int(xy[0]), int(xy[1]))
        inv_map.expanded = [n for n in _list(state.get("expanded"))
                            if isinstance(n, str) and n in inv_map.g]
        selected = state.get("selected")
        inv_map.selected = selected if isinstance(selected, str) and selected in inv_map.g else ""
        inv_map.history = [h for h in _list(state.get("history")) if isinstance(h, dict)]
        if inv_map.root not in inv_map.g:
            inv_map.root = next(iter(inv_map.g), "")
        return inv_map


_ATTR_TYPES = {"kind": str, "label": str, "sev": int, "count": int, "parent": str,
               "props": dict, "origin": str, "seen_in": int, "known": bool, "events": dict}


def _list(value):
    return value if isinstance(value, list) else []


def _point(xy):
    return (isinstance(xy, list | tuple) and len(xy) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 10**7 for v in xy))


# The first map of an alert or incident


def build(subscription_id, *, alert=None, incident=None, max_alerts=MAX_ALERTS_SHOWN,
          max_entities=MAX_ENTITIES_SHOWN):
    """The map before any expansion: the alert or the incident with its alerts, their
    entities (one node per entity, however many alerts name it), the typed relations
    between them and the references no alert defined. A huge incident opens collapsed:
    one node per entity kind, with counts; an alert of many entities shows the first
    `max_entities` and "+N more". Positions are not set (see layout)."""
    if incident is not None:
        inv_map = Map(root=f"incident:{incident.pk}")
        inv_map.add_node(inv_map.root, "incident", incident.title, sev=incident.severity)
        alerts = Alert.objects.filter(subscription_id=subscription_id,
                                      membership__incident=incident)
    else:
        inv_map = Map(root=f"alert:{alert.pk}")
        alerts = Alert.objects.filter(subscription_id=subscription_id, pk=alert.pk)
    alert_ids = list(alerts.values_list("pk", flat=True))
    mentions = AlertEntity.objects.filter(alert_id__in=alert_ids,
                                          entity__subscription_id=subscription_id)
    entity_count = mentions.values("entity_id").distinct().count()
    if incident is not None and (len(alert_ids) > max_alerts or entity_count > max_entities):
        _collapsed(inv_map, len(alert_ids), mentions)
        return inv_map
    new = []
    for a in alerts.only("pk", "display_name", "severity").order_by("time", "pk"):
        node_id = f"alert:{a.pk}"
        if inv_map.add_node(node_id, "alert", a.display_name, sev=a.severity):
            new.append(node_id)
        if incident is not None:
            inv_map.add_edge(inv_map.root, node_id, "contains")
    entities = Entity.objects.filter(subscription_id=subscription_id,
                                     pk__in=mentions.values("entity_id")).order_by("pk")
    # One alert may name 1,000 entities: it opens with the first max_entities and a
    # "+N more" that continues as expanding the alert does.
    hidden = entity_count - max_entities if incident is None else 0
    for e in entities[:max_entities] if hidden > 0 else entities:
        add_entity(inv_map, e)
        new.append(f"entity:{e.pk}")
    connect(inv_map, subscription_id, new)
    if hidden > 0:
        more_id = f"more:{inv_map.root}"
        inv_map.add_node(more_id, "more", f"+{hidden:,} more", count=hidden,
                         parent=inv_map.root)
        inv_map.add_edge(inv_map.root, more_id, "more")
    return inv_map


def _collapsed(inv_map, alert_count, mentions):
    inv_map.add_node("group:alerts", "group", f"{alert_count:,} alerts", count=alert_count,
               props={"of": "alert"})
    inv_map.add_edge(inv_map.root, "group:alerts", "contains")
    kinds = mentions.values("entity__kind").annotate(n=Count("entity_id", distinct=True))\
        .order_by()
    for row in sorted(kinds, key=lambda r: (kind_rank(r["entity__kind"]), r["entity__kind"])):
        kind, n = row["entity__kind"], row["n"]
        node_id = f"group:{kind}"
        inv_map.add_node(node_id, "group", f"{n:,} {kind}", count=n, props={"of": kind})
        inv_map.add_edge("group:alerts", node_id, "involve")


def add_entity(inv_map, entity, **attrs):
    return inv_map.add_node(f"entity:{entity.pk}", entity.kind, entity.label or f"({entity.kind})",
                      known=entity.known, **attrs)


def connect(inv_map, subscription_id, new_ids):
    """Add the edges between the new nodes and everything shown: incident → alert, alert →
    entity, the relations between entities as any alert of the subscription stated them,
    and the unresolved references of the shown alerts' entities."""
    new = set(new_ids)
    alerts = set(inv_map.ids_of("alert"))
    entities = set(inv_map.ids_of("entity"))
    incidents = set(inv_map.ids_of("incident"))
    new_alerts = {pk for pk in alerts if f"alert:{pk}" in new}
    new_entities = {pk for pk in entities if f"entity:{pk}" in new}
    new_incidents = {pk for pk in incidents if f"incident:{pk}" in new}
    # One query per kind of edge: the new nodes on either end, everything shown on both.
    if new_incidents or new_alerts:
        rows = IncidentAlert.objects.filter(
            Q(incident_id__in=new_incidents) | Q(alert_id__in=new_alerts),
            subscription_id=subscription_id, incident_id__in=incidents, alert_id__in=alerts,
        ).values_list("incident_id", "alert_id")
        for incident_id, alert_id in sorted(set(rows)):
            inv_map.add_edge(f"incident:{incident_id}", f"alert:{alert_id}", "contains")
    if (new_alerts and entities) or (new_entities and alerts):
        rows = AlertEntity.objects.filter(
            Q(alert_id__in=new_alerts) | Q(entity_id__in=new_entities),
            alert__subscription_id=subscription_id, alert_id__in=alerts, entity_id__in=entities,
        ).values_list("alert_id", "entity_id")
        for alert_id, entity_id in sorted(set(rows)):
            inv_map.add_edge(f"alert:{alert_id}", f"entity:{entity_id}", "involves")
    if new_entities:
        rows = Relation.objects.filter(
            Q(source__entity_id__in=new_entities) | Q(target__entity_id__in=new_entities),
            subscription_id=subscription_id, source__entity_id__in=entities,
            target__entity_id__in=entities,
        ).values_list("source__entity_id", "target__entity_id", "type").distinct()
        for source, target, kind in sorted(rows):
            inv_map.add_edge(f"entity:{source}", f"entity:{target}", kind)
    if (new_alerts and entities) or (new_entities and alerts):
        rows = Relation.objects.filter(
            Q(alert_id__in=new_alerts) | Q(source__entity_id__in=new_entities),
            subscription_id=subscription_id, target__isnull=True, alert_id__in=alerts,
            source__entity_id__in=entities,
        ).values_list("source__entity_id", "type", "prop", "target_ref")
        for source, kind, prop, ref in sorted(set(rows)):
            node_id = f"dangling:{source}:{digest(kind, prop, ref)}"
            inv_map.add_node(node_id, "dangling", f"unresolved {prop} “{ref}”",
                       props={"property": prop, "reference": ref,
                              "note": "The alert points to an entity it never defined."})
            inv_map.add_edge(f"entity:{source}", node_id, kind)


# Export


def properties(inv_map, subscription_id):
    """{node id: properties}: rows read again (scoped to the subscription), other nodes
    from the state."""
    out = {n: dict(a.get("props") or {}) for n, a in inv_map.g.nodes(data=True)}
    for e in Entity.objects.filter(subscription_id=subscription_id,
                                   pk__in=inv_map.ids_of("entity")):
        out[f"entity:{e.pk}"] = {**e.props, "first_seen": e.first_seen.isoformat(),
                                 "last_seen": e.last_seen.isoformat()}
    for a in Alert.objects.filter(subscription_id=subscription_id, pk__in=inv_map.ids_of("alert"))\
            .only("pk", "display_name", "severity", "status", "alert_type", "time"):
        out[f"alert:{a.pk}"] = {"severity": a.severity_word, "status": a.status,
                                "alert_type": a.alert_type, "time": a.time.isoformat()}
    for i in Incident.objects.filter(subscription_id=subscription_id,
                                     pk__in=inv_map.ids_of("incident")):
        out[f"incident:{i.pk}"] = {"severity": i.severity_word, "status": i.status,
                                   "alert_count": i.alert_count,
                                   "first_time": i.first_time.isoformat(),
                                   "last_time": i.last_time.isoformat()}
    for node_id, attrs in inv_map.g.nodes(data=True):
        if attrs.get("count") is not None:
            out[node_id]["count"] = attrs["count"]
        if attrs.get("seen_in") is not None:
            out[node_id]["seen_in_other_incidents"] = attrs["seen_in"]
        if attrs.get("origin"):
            out[node_id]["origin"] = attrs["origin"]
        if attrs.get("events"):
            out[node_id]["events"] = attrs["events"]
    return out


def as_json(inv_map, subscription_id, with_positions=False):
    """{"nodes": [{"id", "kind", "label", "properties"}], "edges": [{"source", "target",
    "relation"}]}, in a stable order."""
    props = properties(inv_map, subscription_id)
    nodes = []
    for node_id, attrs in inv_map.g.nodes(data=True):
        node = {"id": node_id, "kind": attrs["kind"], "label": attrs["label"],
                "properties": props[node_id]}
        if with_positions and node_id in inv_map.positions:
            node["x"], node["y"] = inv_map.positions[node_id]
        nodes.append(node)
    return {"nodes": nodes,
            "edges": [{"source": s, "target": t, "relation": k} for s, t, k in inv_map.edges()]}


def as_graphml(inv_map, subscription_id):
    """GraphML bytes (networkx writes it); properties as one JSON string per node."""
    props = properties(inv_map, subscription_id)
    out = nx.MultiDiGraph()
    for node_id, attrs in inv_map.g.nodes(data=True):
        x, y = inv_map.positions.get(node_id, (0, 0))
        out.add_node(node_id, kind=attrs["kind"], label=attrs["label"], x=x, y=y,
                     properties=json.dumps(props[node_id], sort_keys=True, default=str))
    for s, t, k in inv_map.edges():
        out.add_edge(s, t, key=k, relation=k)
    buffer = io.BytesIO()
    nx.write_graphml(out, buffer, encoding="utf-8")
    return buffer.getvalue()
