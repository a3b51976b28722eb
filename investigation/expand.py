"""Expanding a node: its neighbours that are not shown yet, at most LIMIT per click.

For an entity: the entities related to it in any alert of the subscription, the other
alerts that name it (with their incidents: "seen in N other incidents"), and, for a
host, an account or an IP, what the workspace's security events say (who logged on from
where, which programs ran). For an alert: its entities and its incident. For an
incident or a collapsed group: its members. What does not fit is counted in one
"+N more" node; expanding that one continues where the click stopped.
"""

from dataclasses import dataclass, field

from django.db.models import Count

from alerts.models import Alert, AlertEntity, Entity, EntityIdentifier, Relation
from incidents.models import Incident, IncidentAlert
from investigation import evidence
from investigation.graph import add_entity, connect, db_ref, digest

LIMIT = 12      # new nodes per click: more buries the incident it started from
PER_ALERT = 5   # entities brought along with each other alert of an entity
PROCESSES_MATCHED = 300  # a host's alert processes an event program is compared with


class ExpandError(Exception):
    """A node that cannot be expanded; the message is fit for the user."""


@dataclass
class Found:
    """One candidate node and the edges that tie it to the map."""

    node_id: str
    kind: str
    label: str
    attrs: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)   # (source, target, relation)
    entity: object = None
    # False for a node that comes along with a counted one (an alert's incident, its
    # entities): it uses the budget but is not one of the source's `total`.
    counted: bool = True


@dataclass
class Source:
    """One kind of neighbour: how many there are beyond the map, and how to fetch some."""

    total: int
    fetch: object  # callable(limit) -> [Found]


def expand(inv_map, subscription_id, node_id, *, incident_id=None, limit=LIMIT):
    """Add `node_id`'s hidden neighbours to `inv_map` (at most `limit`, then "+N more").
    Returns the ids added. Positions are not set here (see layout.place)."""
    if node_id not in inv_map.g:
        raise ExpandError("That node is not on the map.")
    attrs = inv_map.node(node_id)
    anchor = node_id
    if attrs["kind"] == "more":
        anchor = attrs.get("parent", "")
        if anchor not in inv_map.g:
            raise ExpandError("That summary no longer belongs to a node on the map.")
    sources = _sources(inv_map, subscription_id, anchor, incident_id)
    added, budget, total, taken = [], limit, 0, 0
    for source in sources:
        total += source.total
        if budget <= 0 or source.total <= 0:
            continue
        for found in source.fetch(budget):
            if budget <= 0:
                break
            if found.node_id in inv_map.g:
                total -= 1  # found by an earlier source of this click
                if found.attrs.get("events"):  # which did not know what the events say
                    inv_map.node(found.node_id)["events"] = found.attrs["events"]
                continue
            if found.entity is not None:
                add_entity(inv_map, found.entity, **found.attrs)
            else:
                inv_map.add_node(found.node_id, found.kind, found.label, **found.attrs)
            added.append(found.node_id)
            budget -= 1
            taken += found.counted
            for edge in found.edges:
                inv_map.add_edge(*edge)
    more_id = f"more:{anchor}"
    if more_id in inv_map.g:
        inv_map.remove_node(more_id)
    connect(inv_map, subscription_id, added)
    left = total - taken
    if left > 0:
        inv_map.add_node(more_id, "more", f"+{left:,} more", count=left, parent=anchor)
        inv_map.add_edge(anchor, more_id, "more")
        added.append(more_id)
    return added


def _sources(inv_map, subscription_id, node_id, incident_id):
    kind, pk = db_ref(node_id)
    attrs = inv_map.node(node_id)
    if kind == "entity":
        entity = Entity.objects.filter(subscription_id=subscription_id, pk=pk).first()
        if entity is None:
            raise ExpandError("That entity is no longer there.")
        return [_related(inv_map, subscription_id, entity),
                _other_alerts(inv_map, subscription_id, entity, incident_id),
                *_events(inv_map, subscription_id, node_id, entity.kind, entity.label,
                         entity.props)]
    if kind == "alert":
        return _alert_members(inv_map, subscription_id, pk)
    if kind == "incident":
        return [_incident_alerts(inv_map, subscription_id, pk, node_id)]
    if attrs["kind"] == "group":
        of = (attrs.get("props") or {}).get("of", "")
        if incident_id is None or not isinstance(of, str):
            return []
        if of == "alert":
            return [_incident_alerts(inv_map, subscription_id, incident_id, node_id)]
        return [_group_entities(inv_map, subscription_id, incident_id, of, node_id)]
    if attrs.get("origin") == "events" and attrs["kind"] in evidence.EVENT_KINDS:
        return _events(inv_map, subscription_id, node_id, attrs["kind"], attrs["label"],
                       attrs.get("props"))
    return []


def _related(inv_map, subscription_id, entity):
    """Entities tied to this one by a typed relation in any alert of the subscription."""
    shown = inv_map.ids_of("entity")
    relations = Relation.objects.filter(subscription_id=subscription_id, target__isnull=False)
    outgoing = relations.filter(source__entity_id=entity.pk).exclude(
        target__entity_id__in=shown).exclude(target__entity_id=entity.pk)
    incoming = relations.filter(target__entity_id=entity.pk).exclude(
        source__entity_id__in=shown).exclude(source__entity_id=entity.pk)
    total = (outgoing.values("target__entity_id").distinct().count()
             + incoming.values("source__entity_id").distinct().count())

    def fetch(limit):
        pairs = list(outgoing.values_list("target__entity_id", "type").distinct()
                     .order_by("target__entity_id", "type")[:limit])
        pairs += [(other, kind, True) for other, kind in incoming.values_list(
            "source__entity_id", "type").distinct().order_by("source__entity_id", "type")
            [:limit]]
        rows = Entity.objects.in_bulk({p[0] for p in pairs})
        found, seen = [], set()
        for pair in pairs:
            other, kind, reverse = pair[0], pair[1], len(pair) == 3
            e = rows.get(other)
            if e is None or e.subscription_id != subscription_id or other in seen:
                continue
            seen.add(other)
            here, there = f"entity:{entity.pk}", f"entity:{other}"
            edge = (there, here, kind) if reverse else (here, there, kind)
            found.append(Found(there, e.kind, e.label, edges=[edge], entity=e))
        return found

    return Source(total, fetch)


def _other_alerts(inv_map, subscription_id, entity, incident_id):
    """The other alerts naming the entity, newest first, each with its incident."""
    shown = inv_map.ids_of("alert")
    # Scoped through the entity, which is the subscription's: joining every mention to its
    # alert only to check the subscription again tripled the count on a busy entity.
    mentions = AlertEntity.objects.filter(entity_id=entity.pk,
                                          entity__subscription_id=subscription_id)\
        .exclude(alert_id__in=shown)
    total = mentions.values("alert_id").distinct().count()
    incidents = IncidentAlert.objects.filter(
        subscription_id=subscription_id,
        alert_id__in=AlertEntity.objects.filter(entity_id=entity.pk).values("alert_id"))
    if incident_id is not None:
        incidents = incidents.exclude(incident_id=incident_id)
    seen_in = incidents.values("incident_id").distinct().count()
    inv_map.node(f"entity:{entity.pk}")["seen_in"] = seen_in

    def fetch(limit):
        alerts = list(Alert.objects.filter(subscription_id=subscription_id,
                                           pk__in=mentions.values("alert_id"))
                      .only("pk", "display_name", "severity", "time")
                      .order_by("-time", "-pk")[:limit])
        ids = [a.pk for a in alerts]
        links = {a_id: i for a_id, i in IncidentAlert.objects.filter(
            subscription_id=subscription_id, alert_id__in=ids,
            incident__standalone=False).values_list("alert_id", "incident_id")}
        groups = Incident.objects.in_bulk(set(links.values()))
        named = {}
        for alert_id, entity_id in AlertEntity.objects.filter(alert_id__in=ids).exclude(
                entity_id=entity.pk).values_list("alert_id", "entity_id").order_by(
                "alert_id", "position"):
            named.setdefault(alert_id, []).append(entity_id)
        rows = Entity.objects.filter(subscription_id=subscription_id).in_bulk(
            {e for ids_ in named.values() for e in ids_})
        found = []
        for a in alerts:
            node = f"alert:{a.pk}"
            found.append(Found(node, "alert", a.display_name, {"sev": a.severity},
                               [(node, f"entity:{entity.pk}", "involves")]))
            incident = groups.get(links.get(a.pk))
            if incident is not None and incident.subscription_id == subscription_id:
                found.append(Found(f"incident:{incident.pk}", "incident", incident.title,
                                   {"sev": incident.severity},
                                   [(f"incident:{incident.pk}", node, "contains")],
                                   counted=False))
            # The entities named beside it in that alert (what else the attacker touched).
            for entity_id in list(dict.fromkeys(named.get(a.pk, [])))[:PER_ALERT]:
                e = rows.get(entity_id)
                if e is not None:
                    found.append(Found(f"entity:{e.pk}", e.kind, e.label, entity=e,
                                       edges=[(node, f"entity:{e.pk}", "involves")],
                                       counted=False))
        return found

    return Source(total, fetch)


def _alert_members(inv_map, subscription_id, alert_id):
    """An alert's entities and its incident, when they are not shown."""
    alert = Alert.objects.filter(subscription_id=subscription_id, pk=alert_id).first()
    if alert is None:
        raise ExpandError("That alert is no longer there.")
    shown = inv_map.ids_of("entity")
    entity_ids = AlertEntity.objects.filter(alert_id=alert.pk).exclude(
        entity_id__in=shown).values("entity_id").distinct()
    link = IncidentAlert.objects.filter(alert_id=alert.pk, subscription_id=subscription_id,
                                        incident__standalone=False)\
        .select_related("incident").first()
    sources = []
    if link is not None and f"incident:{link.incident_id}" not in inv_map.g:
        incident = link.incident
        sources.append(Source(1, lambda limit: [Found(
            f"incident:{incident.pk}", "incident", incident.title, {"sev": incident.severity},
            [(f"incident:{incident.pk}", f"alert:{alert.pk}", "contains")])]))

    def fetch(limit):
        rows = Entity.objects.filter(subscription_id=subscription_id, pk__in=entity_ids)\
            .order_by("pk")[:limit]
        return [Found(f"entity:{e.pk}", e.kind, e.label, entity=e,
                      edges=[(f"alert:{alert.pk}", f"entity:{e.pk}", "involves")])
                for e in rows]

    sources.append(Source(entity_ids.count(), fetch))
    return sources


def _incident_alerts(inv_map, subscription_id, incident_id, from_node):
    shown = inv_map.ids_of("alert")
    alerts = Alert.objects.filter(subscription_id=subscription_id,
                                  membership__incident_id=incident_id).exclude(pk__in=shown)

    def fetch(limit):
        return [Found(f"alert:{a.pk}", "alert", a.display_name, {"sev": a.severity},
                      [(from_node, f"alert:{a.pk}",
                        "contains" if from_node.startswith("incident:") else "member")])
                for a in alerts.only("pk", "display_name", "severity")
                .order_by("severity", "-time", "-pk")[:limit]]

    return Source(alerts.count(), fetch)


def _group_entities(inv_map, subscription_id, incident_id, kind, from_node):
    """A collapsed kind's entities, the most named first."""
    shown = inv_map.ids_of("entity")
    members = AlertEntity.objects.filter(
        alert__membership__incident_id=incident_id, alert__subscription_id=subscription_id,
        entity__kind=kind).exclude(entity_id__in=shown)

    def fetch(limit):
        ranked = list(members.values("entity_id").annotate(n=Count("alert_id", distinct=True))
                      .order_by("-n", "entity_id")[:limit])
        rows = Entity.objects.filter(subscription_id=subscription_id).in_bulk(
            [r["entity_id"] for r in ranked])
        return [Found(f"entity:{r['entity_id']}", kind, rows[r["entity_id"]].label,
                      entity=rows[r["entity_id"]],
                      edges=[(from_node, f"entity:{r['entity_id']}", "member")])
                for r in ranked if r["entity_id"] in rows]

    return Source(members.values("entity_id").distinct().count(), fetch)


# What the events say


def _events(inv_map, subscription_id, node_id, kind, label, props):
    """Hosts, accounts, addresses and programs the events tie to a host, account or IP.
    An event value that is the same thing as an entity of the subscription (the same
    address, account or host; a program with the same image on the same host) is that
    entity's node, which gains what the events say ("events"), rather than a second one."""
    if kind not in evidence.EVENT_KINDS:
        return []
    workspace = evidence.workspace_of(subscription_id)
    if workspace is None:
        return []
    logons = evidence.successful_logons(workspace, kind, label, props)
    found = []
    names = set()
    for r in logons.records():
        for value, what in ((r.get("Account"), "account"), (r.get("Computer"), "host"),
                            (r.get("IpAddress"), "ip")):
            if _usable(value, what):
                names.add((what, value))
    known = _known_entities(subscription_id, names)
    said = {}  # node id -> what the events say of it: logons, runs, last seen
    for r in logons.records():
        account = _event_node(inv_map, known, "account", r.get("Account"), found)
        host = _event_node(inv_map, known, "host", r.get("Computer"), found)
        ip = _event_node(inv_map, known, "ip", r.get("IpAddress"), found)
        for node in {account, host, ip} - {None, node_id}:
            _tell(said, node, "Logons", r.get("Logons"), r.get("Last"))
        for edge, ok in (((account, host, "logged on to"), account and host),
                         ((ip, account, "logon as"), ip and account),
                         ((ip, host, "connected to"), ip and host)):
            if ok:
                _attach(inv_map, found, edge)
    if kind == "host":
        entity_id = db_ref(node_id)[1] if db_ref(node_id)[0] == "entity" else None
        images = _processes_on(subscription_id, entity_id) if entity_id else {}
        for r in evidence.started_processes(workspace, label, props).records():
            image = r.get("NewProcessName")
            if not isinstance(image, str) or not image:
                continue
            same = _same_process(images, image)
            for e in same:
                node = f"entity:{e.pk}"
                _tell(said, node, "Runs", r.get("Runs"), r.get("Last"), NewProcessName=image)
                if node not in inv_map.g and not any(f.node_id == node for f in found):
                    found.append(Found(node, e.kind, e.label, entity=e))
            if same:
                continue
            node = f"ev:process:{digest(node_id, image.lower())}"
            name = image.replace("/", "\\").rsplit("\\", 1)[-1] or image
            found.append(Found(node, "process", name, {
                "origin": "events", "props": {"NewProcessName": image, "Computer":
                                              r.get("Computer"), "Runs": r.get("Runs"),
                                              "Last": r.get("Last")}},
                [(node, node_id, "ran on")]))
            _tell(said, node, "Runs", r.get("Runs"), r.get("Last"))
    for node, told in said.items():
        if node.startswith("entity:"):
            f = next((f for f in found if f.node_id == node), None)
            (inv_map.node(node) if node in inv_map.g else f.attrs if f else {})["events"] = told
    # Only what is not on the map yet counts; edges between shown nodes are still added.
    fresh, seen = [], set()
    for f in found:
        if f.node_id in inv_map.g:
            for edge in f.edges:
                inv_map.add_edge(*edge)
        elif f.node_id not in seen:
            seen.add(f.node_id)
            fresh.append(f)
    # The most telling first: what is tied to more of the map, then the busiest.
    shown = set(inv_map.g) - {node_id}

    def weight(f):
        ties = {end for edge in f.edges for end in edge[:2] if end in shown}
        ties |= {e[0] for f2 in found for e in f2.edges if e[1] == f.node_id and e[0] in shown}
        told = said.get(f.node_id, {})
        return (-len(ties), -(told.get("Logons", 0) + told.get("Runs", 0)),
                _EVENT_ORDER.get(f.kind, 9), f.label.lower(), f.node_id)

    fresh.sort(key=weight)
    pending = {f.node_id for f in fresh}

    def fetch(limit):
        return [Found(f.node_id, f.kind, f.label, f.attrs,
                      [e for e in f.edges if e[0] in inv_map.g or e[0] in pending
                       if e[1] in inv_map.g or e[1] in pending], f.entity) for f in fresh[:limit]]

    return [Source(len(fresh), fetch)]


_SKIP = {"", "-", "::1", "127.0.0.1", "localhost"}
_EVENT_ORDER = {"account": 0, "host": 1, "process": 2, "ip": 3}


def _tell(said: dict, node: str, what: str, count, last, **more) -> None:
    """Add one row of the events to what they say of `node`."""
    told = said.setdefault(node, {})
    told[what] = told.get(what, 0) + (count if isinstance(count, int) else 0)
    if isinstance(last, str) and last > told.get("Last", ""):
        told["Last"] = last
    told.update(more)


def _image_path(text) -> str:
    """c:\\windows\\explorer.exe for `"C:/Windows/explorer.exe" /x`: a command line's
    program (or a file's path), lower case, with backslashes."""
    text = text.strip() if isinstance(text, str) else ""  # props are as the alert sent them
    if text.startswith('"'):
        text = text[1:].split('"', 1)[0]
    else:
        lower = text.lower()
        end = lower.find(".exe")
        text = text[:end + 4] if end > 0 else text.split(" ", 1)[0]
    return text.replace("/", "\\").lower()


def _processes_on(subscription_id: int, host_id: int) -> dict[str, list[Entity]]:
    """{image path or program name: [process entities]} of the processes the alerts say
    ran on the host: the image file's path when an alert names it, else the program of the
    command line."""
    runs_on = Relation.objects.filter(subscription_id=subscription_id, type="runs_on",
                                      target__entity_id=host_id)\
        .values_list("source__entity_id", flat=True)
    # A busy host may have run thousands: the newest few hundred are what a map shows.
    processes = list(Entity.objects.filter(subscription_id=subscription_id, kind="process",
                                           pk__in=runs_on).order_by("-pk")[:PROCESSES_MATCHED])
    images = dict(Relation.objects.filter(
        subscription_id=subscription_id, type="image",
        source__entity_id__in=[p.pk for p in processes], target__isnull=False)
        .values_list("source__entity_id", "target__entity_id"))
    files = Entity.objects.filter(subscription_id=subscription_id).in_bulk(set(images.values()))
    out = {}
    for p in processes:
        f = files.get(images.get(p.pk))
        said = f.props if f is not None and isinstance(f.props, dict) else {}
        name, folder = said.get("Name"), said.get("Directory")
        if isinstance(name, str) and name:
            path = f"{folder.rstrip(chr(92))}\\{name}" if isinstance(folder, str) and folder \
                else name
            key = _image_path(f'"{path}"')
        else:
            key = _image_path(p.props.get("CommandLine") if isinstance(p.props, dict) else None)
        if key:
            out.setdefault(key, []).append(p)
    return out


def _same_process(images: dict[str, list[Entity]], image: str) -> list[Entity]:
    """The processes of `images` an event's NewProcessName is: the same path, or the same
    program name when the alert named no folder."""
    path = _image_path(f'"{image}"')
    name = path.rsplit("\\", 1)[-1]
    return images.get(path, []) + [p for key, ps in images.items()
                                   if "\\" not in key and key == name for p in ps]


def _usable(value, what):
    return isinstance(value, str) and value.strip().lower() not in _SKIP and len(value) < 300


def _identifier(what, value):
    v = value.strip().lower()
    if what == "ip":
        return f"ip|address|{v}"
    if what == "host":
        return f"host|name|{v.split('.', 1)[0]}"
    if "\\" in v:
        domain, _, name = v.partition("\\")
        return f"account|name-ntdomain|{name}|{domain}"
    return f"account|name|{v}"


def _known_entities(subscription_id, names):
    """{(kind, value): Entity} for event values that name exactly one entity."""
    wanted = {_identifier(what, value): (what, value) for what, value in names}
    owners = {}
    for value, entity_id in EntityIdentifier.objects.filter(
            subscription_id=subscription_id, value__in=list(wanted)).values_list(
            "value", "entity_id"):
        owners.setdefault(value, set()).add(entity_id)
    single = {v: ids.pop() for v, ids in owners.items() if len(ids) == 1}
    rows = Entity.objects.filter(subscription_id=subscription_id).in_bulk(set(single.values()))
    return {wanted[v]: rows[e] for v, e in single.items() if e in rows}


def _event_node(inv_map, known, what, value, found):
    """The node id for an event value: the entity it names, or an events-only node."""
    if not _usable(value, what):
        return None
    entity = known.get((what, value))
    if entity is not None:
        node = f"entity:{entity.pk}"
        if node not in inv_map.g and not any(f.node_id == node for f in found):
            found.append(Found(node, entity.kind, entity.label, entity=entity))
        return node
    node = f"ev:{what}:{digest(what, value.strip().lower())}"
    if node not in inv_map.g and not any(f.node_id == node for f in found):
        found.append(Found(node, what, value.strip(), {"origin": "events", "props": {
            {"account": "Account", "host": "Computer", "ip": "IpAddress"}[what]:
                value.strip()}}))
    return node


def _attach(inv_map, found, edge):
    """Hang `edge` on the candidate that brings its last missing end, so that it is added
    with that node; between two shown nodes it is added at once."""
    ends = [i for i, f in enumerate(found) if f.node_id in (edge[0], edge[1])
            and f.node_id not in inv_map.g]
    if not ends:
        inv_map.add_edge(*edge)
        return
    f = found[max(ends)]
    if edge not in f.edges:
        f.edges.append(edge)
