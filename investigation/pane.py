"""The side pane of the selected node: its facts, and tabs that depend on its kind.

Info and Alerts come from the database; Logons, Processes, Network, Hosts and
Connections are security events, asked through the search engine (investigation.evidence)
so that they agree with a search for the same thing.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from alerts.models import Alert, AlertEntity, Entity, Relation
from incidents.models import Incident, IncidentAlert
from investigation import evidence
from investigation.graph import db_ref

TAB_TITLES = {"info": "Info", "alerts": "Alerts", "logons": "Logons",
              "processes": "Processes", "network": "Network", "hosts": "Hosts",
              "connections": "Connections", "tree": "Tree", "hashes": "Hashes"}
ENTITY_TABS = {
    "host": ("info", "alerts", "logons", "processes", "network"),
    "account": ("info", "alerts", "logons", "hosts"),
    "ip": ("info", "alerts", "connections"),
    "process": ("info", "alerts", "tree"),
    "file": ("info", "alerts", "hashes"),
}
EVENT_TABS = {
    "host": ("info", "logons", "processes", "network"),
    "account": ("info", "logons", "hosts"),
    "ip": ("info", "connections"),
}
ROW_LIMIT = 100


@dataclass(frozen=True)
class ExtraTab:
    """A tab an app above this one adds to entity panes (detections: Threat intelligence):
    shown when `applies(entity)`, its context from `context(entity)`, drawn by `template`."""

    slug: str
    title: str
    applies: object
    context: object
    template: str


EXTRA_TABS: dict[str, ExtraTab] = {}


def register_tab(extra: ExtraTab) -> None:
    """Called from an app's ready(): the apps above add tabs without this one importing
    them."""
    EXTRA_TABS[extra.slug] = extra
    TAB_TITLES[extra.slug] = extra.title


@dataclass
class Pane:
    node_id: str
    kind: str
    label: str
    tabs: list
    attrs: dict
    entity: Entity | None = None
    alert: Alert | None = None
    incident: Incident | None = None
    props: dict = field(default_factory=dict)
    seen_in: int | None = None
    search_url: str = ""


def pane(inv_map, subscription_id, node_id, *, incident_id=None):
    """The pane of a node on the map; None for a node that is not on it."""
    if node_id not in inv_map.g:
        return None
    attrs = inv_map.node(node_id)
    kind, pk = db_ref(node_id)
    p = Pane(node_id, attrs["kind"], attrs["label"], ["info"], attrs,
             props=dict(attrs.get("props") or {}))
    if kind == "entity":
        p.entity = Entity.objects.filter(subscription_id=subscription_id, pk=pk).first()
        if p.entity is not None:
            p.props = p.entity.props
            p.tabs = list(ENTITY_TABS.get(p.entity.kind, ("info", "alerts")))
            p.tabs += [slug for slug, extra in EXTRA_TABS.items() if extra.applies(p.entity)]
            incidents = IncidentAlert.objects.filter(
                subscription_id=subscription_id,
                alert_id__in=AlertEntity.objects.filter(entity_id=pk).values("alert_id"))
            if incident_id is not None:
                incidents = incidents.exclude(incident_id=incident_id)
            p.seen_in = incidents.values("incident_id").distinct().count()
    elif kind == "alert":
        p.alert = Alert.objects.filter(subscription_id=subscription_id, pk=pk).first()
    elif kind == "incident":
        p.incident = Incident.objects.filter(subscription_id=subscription_id, pk=pk).first()
    elif attrs.get("origin") == "events":
        p.tabs = list(EVENT_TABS.get(attrs["kind"], ("info",)))
    query = evidence.search_query(attrs["kind"], attrs["label"], p.props)
    if query and kind in ("entity", None) and attrs["kind"] not in ("group", "more",
                                                                    "dangling"):
        p.search_url = f"/s/{subscription_id}/search/?" + urlencode({"query": query})
    p.tabs = [(t, TAB_TITLES[t]) for t in p.tabs]
    return p


def tab(p, subscription_id, slug):
    """The context of one lazily loaded tab, or None for a tab this node does not have."""
    if slug not in dict(p.tabs) or slug == "info":
        return None
    if slug in EXTRA_TABS:
        extra = EXTRA_TABS[slug]
        return {**extra.context(p.entity), "extra_template": extra.template}
    if slug == "alerts":
        return {"alerts": _alerts(p.entity, subscription_id) if p.entity else []}
    if slug == "tree":
        return _tree(p.entity, subscription_id)
    if slug == "hashes":
        return _hashes(p.entity, subscription_id)
    workspace = evidence.workspace_of(subscription_id)
    kind, label, props = p.kind, p.label, p.props
    rows = {
        "logons": lambda: evidence.logons(workspace, kind, label, props),
        "processes": lambda: evidence.processes(workspace, label, props),
        "network": lambda: evidence.network(workspace, "host", label, props),
        "connections": lambda: evidence.network(workspace, "ip", label, props),
        "hosts": lambda: evidence.hosts_of_account(workspace, label, props),
    }[slug]()
    return {"rows": rows, "search_url": f"/s/{subscription_id}/search/?"
            + urlencode({"query": rows.query})}


def _alerts(entity, subscription_id):
    """Every alert naming the entity, newest first, with its incident."""
    alerts = list(Alert.objects.filter(subscription_id=subscription_id,
                                       mentions__entity_id=entity.pk).distinct()
                  .only("pk", "display_name", "severity", "status", "time")
                  .order_by("-time", "-pk")[:ROW_LIMIT])
    links = dict(IncidentAlert.objects.filter(
        subscription_id=subscription_id, alert_id__in=[a.pk for a in alerts])
        .values_list("alert_id", "incident_id"))
    incidents = Incident.objects.filter(subscription_id=subscription_id)\
        .only("pk", "title", "standalone").in_bulk(set(links.values()))
    for a in alerts:
        a.incident = incidents.get(links.get(a.pk))
    return alerts


def _tree(entity, subscription_id):
    """A process's parents and children as the alerts stated them."""
    if entity is None:
        return {"parents": [], "children": []}
    parents = Relation.objects.filter(subscription_id=subscription_id, type="parent",
                                      source__entity_id=entity.pk, target__isnull=False)\
        .values_list("target__entity_id", flat=True)
    children = Relation.objects.filter(subscription_id=subscription_id, type="parent",
                                       target__entity_id=entity.pk)\
        .values_list("source__entity_id", flat=True)
    entities = Entity.objects.filter(subscription_id=subscription_id)
    return {"parents": list(entities.filter(pk__in=parents).order_by("first_seen", "pk")
                            [:ROW_LIMIT]),
            "children": list(entities.filter(pk__in=children).order_by("first_seen", "pk")
                             [:ROW_LIMIT])}


def _hashes(entity, subscription_id):
    if entity is None:
        return {"hashes": [], "hosts": []}
    hashes = Relation.objects.filter(subscription_id=subscription_id, type="has_hash",
                                     source__entity_id=entity.pk, target__isnull=False)\
        .values_list("target__entity_id", flat=True)
    entities = Entity.objects.filter(subscription_id=subscription_id)
    hosts = entities.filter(kind="host", mentions__alert__mentions__entity_id=entity.pk)\
        .distinct().order_by("label")[:ROW_LIMIT]
    return {"hashes": list(entities.filter(pk__in=hashes).order_by("label")),
            "hosts": list(hosts)}
