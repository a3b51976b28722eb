"""Starting an investigation, clicking a node, undoing: each a change with its log entry."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import Alert
from incidents.models import Incident
from inventory import activity
from inventory.activity import Actor
from investigation import layout
from investigation.expand import ExpandError, expand
from investigation.graph import Map, build
from investigation.models import Investigation


class InvestigationError(Exception):
    """A request the investigation cannot carry out; the message is fit for the user."""


def initial_map(*, alert: Alert | None = None, incident: Incident | None = None,
                **limits) -> Map:
    """The first map of an alert or incident, laid out (also what the API answers)."""
    target = incident or alert
    inv_map = build(target.subscription_id, alert=alert, incident=incident, **limits)
    layout.place(inv_map)
    return inv_map


def start_investigation(*, actor: Actor, alert: Alert | None = None,
                        incident: Incident | None = None) -> tuple[Investigation, bool]:
    """The investigation of `alert` or `incident`: created with its first map if there is
    none yet, else the existing one (whoever started it). Returns (investigation, created)."""
    if (alert is None) == (incident is None):
        raise ValueError("Investigate an alert or an incident.")
    target = incident or alert
    lookup = {"incident": incident} if incident is not None else {"alert": alert}
    existing = Investigation.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    inv_map = initial_map(alert=alert, incident=incident)
    now = timezone.now()
    try:
        with transaction.atomic():
            inv = Investigation.objects.create(
                subscription_id=target.subscription_id, started_by=actor.user,
                started_at=now, updated_at=now, state=inv_map.to_state(), **lookup)
            activity.record(actor=actor, verb="investigation.start",
                            target_type="investigation", target_id=inv.pk,
                            target_label=_label(target),
                            subscription_id=target.subscription_id,
                            after={"of": "incident" if incident is not None else "alert",
                                   "id": target.pk, "nodes": inv_map.g.number_of_nodes()})
    except IntegrityError:
        # Someone started it a moment ago: continue theirs.
        return Investigation.objects.get(**lookup), False
    return inv, True


def _label(target):
    return getattr(target, "title", None) or target.display_name


def load(inv: Investigation) -> Map:
    return Map.from_state(inv.state)


def select_node(inv: Investigation, node_id: str, *, actor: Actor) -> tuple[Map, list[str]]:
    """Select `node_id` and, the first time, expand it. Returns (map, ids added)."""
    with transaction.atomic():
        inv = Investigation.objects.select_for_update().get(pk=inv.pk)
        inv_map = load(inv)
        if not isinstance(node_id, str) or node_id not in inv_map.g:
            raise InvestigationError("That node is not on the map.")
        previous = inv_map.selected
        inv_map.selected = node_id
        if node_id in inv_map.expanded and inv_map.node(node_id)["kind"] != "more":
            _save(inv, inv_map)
            return inv_map, []
        before_edges = set(inv_map.edges())
        told = {n: a.get("events") for n, a in inv_map.g.nodes(data=True)}
        removed = _more_nodes(inv_map)
        clicked = dict(inv_map.node(node_id))
        try:
            added = expand(inv_map, inv.subscription_id, node_id, incident_id=inv.incident_id)
        except ExpandError as exc:
            raise InvestigationError(str(exc)) from exc
        if clicked["kind"] == "more":
            # "+N more" stands for its parent: the parent stays the selection.
            parent = clicked.get("parent", "")
            inv_map.selected = parent if parent in inv_map.g else ""
        else:
            inv_map.expanded.append(node_id)
        layout.place(inv_map, added, around=inv_map.selected or None)
        inv_map.history.append({
            "node": node_id, "selected": previous, "added": added, "attrs": clicked,
            "edges": [list(e) for e in inv_map.edges() if e not in before_edges],
            "removed": {n: saved for n, saved in removed.items()
                        if n not in inv_map.g or n in added},
            # What the events said of nodes already shown, before this click told more.
            "told": {n: before for n, before in told.items()
                     if n in inv_map.g and inv_map.node(n).get("events") != before},
        })
        _save(inv, inv_map)
        activity.record(actor=actor, verb="investigation.expand", target_type="investigation",
                        target_id=inv.pk, target_label=_label(inv.target),
                        subscription_id=inv.subscription_id,
                        after={"node": node_id, "label": clicked["label"][:200],
                               "added": len(added)})
        return inv_map, added


def _more_nodes(inv_map):
    """The "+N more" nodes with their edges and positions, in case an expansion removes
    one (undo puts it back)."""
    out = {}
    for n, attrs in inv_map.g.nodes(data=True):
        if attrs["kind"] == "more":
            out[n] = {"attrs": dict(attrs), "position": list(inv_map.positions.get(n, (0, 0))),
                      "edges": [list(e) for e in inv_map.g.in_edges(n, keys=True)]
                      + [list(e) for e in inv_map.g.out_edges(n, keys=True)]}
    return out


def undo(inv: Investigation, *, actor: Actor) -> Map:
    """Step back one expansion: its nodes and edges go, what it replaced comes back, the
    selection is what it was. Returns the map; InvestigationError when nothing is left."""
    with transaction.atomic():
        inv = Investigation.objects.select_for_update().get(pk=inv.pk)
        inv_map = load(inv)
        if not inv_map.history:
            raise InvestigationError("Nothing to undo.")
        step = inv_map.history.pop()
        for edge in step.get("edges") or []:
            if isinstance(edge, list) and len(edge) == 3 and inv_map.g.has_edge(*edge):
                inv_map.g.remove_edge(edge[0], edge[1], key=edge[2])
        for n in step.get("added") or []:
            if isinstance(n, str) and n in inv_map.g and n != inv_map.root:
                inv_map.remove_node(n)
        removed = step.get("removed")
        for n, saved in (removed.items() if isinstance(removed, dict) else ()):
            attrs = saved.get("attrs") if isinstance(saved, dict) else None
            if not isinstance(attrs, dict) or not isinstance(attrs.get("label"), str):
                continue
            inv_map.add_node(n, "more", attrs["label"], count=attrs.get("count"),
                       parent=attrs.get("parent"))
            position = saved.get("position")
            if isinstance(position, list) and len(position) == 2:
                inv_map.positions[n] = (int(position[0]), int(position[1]))
            for edge in saved.get("edges") or []:
                if isinstance(edge, list) and len(edge) == 3:
                    inv_map.add_edge(*edge)
        told = step.get("told")
        for n, before in (told.items() if isinstance(told, dict) else ()):
            if n in inv_map.g:
                inv_map.g.nodes[n].pop("events", None)
                if isinstance(before, dict):
                    inv_map.g.nodes[n]["events"] = before
        node = step.get("node")
        attrs = step.get("attrs")
        if isinstance(node, str) and node in inv_map.g and isinstance(attrs, dict):
            inv_map.g.nodes[node].pop("seen_in", None)  # learnt by the expansion undone
            if isinstance(attrs.get("seen_in"), int):
                inv_map.g.nodes[node]["seen_in"] = attrs["seen_in"]
        if node in inv_map.expanded:
            inv_map.expanded.remove(node)
        selected = step.get("selected")
        inv_map.selected = selected if isinstance(selected, str) and selected in inv_map.g else ""
        layout.place(inv_map)  # anything that came back without a position
        _save(inv, inv_map)
        activity.record(actor=actor, verb="investigation.undo", target_type="investigation",
                        target_id=inv.pk, target_label=_label(inv.target),
                        subscription_id=inv.subscription_id,
                        after={"node": node if isinstance(node, str) else ""})
        return inv_map


def _save(inv, inv_map):
    inv.state = inv_map.to_state()
    inv.version += 1
    inv.updated_at = timezone.now()
    inv.save(update_fields=["state", "version", "updated_at"])
