"""Expanding a node: other alerts and incidents, related entities, security events, the
limit of 12 with "+N more", and nothing from another subscription."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from investigation.actions import initial_map
from investigation.expand import LIMIT, ExpandError, expand
from tests.factories import native_alert
from tests.investigation.helpers import incident_with, ingest
from tests.search.factories import default_workspace
from tests.search.factories import ingest as ingest_events

BUSY_IP = "198.51.100.7"


def node_of(m, kind, label):
    return next(n for n, a in m.g.nodes(data=True) if a["kind"] == kind and a["label"] == label)


def labels(m, ids):
    return sorted(m.node(n)["label"] for n in ids)


def busy(subscription, count, ip=BUSY_IP, prefix="busy"):
    return ingest(subscription, [native_alert(
        id=f"{prefix}-{i}", display_name=f"Scan {i}", compromised_entity=f"vm-{prefix}-{i}",
        start_time=f"2026-11-{1 + i % 27:02d}T{i % 24:02d}:00:00Z",
        entities=[{"$id": "1", "Type": "host", "HostName": f"vm-{prefix}-{i}"},
                  {"$id": "2", "Type": "ip", "Address": ip}]) for i in range(count)])


def test_it_brings_in_the_other_alerts_and_incidents_of_an_entity(p):
    incident, _ = incident_with(p.sub, count=2, ip=BUSY_IP)
    elsewhere, others = incident_with(p.sub, count=2, host="vm-other-02", ip=BUSY_IP,
                                      account="bob")
    m = initial_map(incident=incident)
    ip = node_of(m, "ip", BUSY_IP)
    added = expand(m, p.sub.pk, ip, incident_id=incident.pk)
    assert set(added) >= {f"alert:{a.pk}" for a in others} | {f"incident:{elsewhere.pk}"}
    assert m.node(ip)["seen_in"] == 1  # "seen in 1 other incident"
    assert m.g.has_edge(f"incident:{elsewhere.pk}", f"alert:{others[0].pk}", key="contains")
    assert m.g.has_edge(f"alert:{others[0].pk}", ip, key="involves")
    # The related entities of those alerts join too, with their typed edges.
    assert "vm-other-02" in labels(m, added) and "CONTOSO\\bob" in labels(m, added)


def test_expansion_stops_at_12_new_nodes_and_summarises_the_rest(p):
    [alert] = ingest(p.sub, [native_alert(entities=[{"$id": "1", "Type": "ip",
                                                      "Address": BUSY_IP}])])
    busy_alerts = busy(p.sub, 70)
    m = initial_map(alert=alert)
    ip = node_of(m, "ip", BUSY_IP)
    added = expand(m, p.sub.pk, ip)
    assert len(added) == LIMIT + 1 and added[-1] == f"more:{ip}"
    alerts = [n for n in added if n.startswith("alert:")]
    hosts = [n for n in added if m.node(n)["kind"] == "host"]
    assert LIMIT == 12
    assert len(alerts) == len(hosts) == 6  # each other alert comes with its host
    more = m.node(f"more:{ip}")
    assert more["count"] == 64 and more["label"] == "+64 more"
    # The newest alerts come first; "+N more" continues where the click stopped.
    newest = sorted(busy_alerts, key=lambda a: (a.time, a.pk), reverse=True)[:6]
    assert set(alerts) == {f"alert:{a.pk}" for a in newest}
    clicks = 1
    while f"more:{ip}" in m.g:
        assert len(expand(m, p.sub.pk, f"more:{ip}")) <= LIMIT + 1
        clicks += 1
    assert clicks == 12
    assert sum(1 for n in m.g if n.startswith("alert:")) == 71


def test_expanding_never_reveals_another_subscription(p):
    incident, _ = incident_with(p.sub, count=2, ip=BUSY_IP)
    theirs, _ = incident_with(p.other, count=2, host="vm-inv-01", ip=BUSY_IP)
    busy(p.other, 5, prefix="fab")
    now = timezone.now()
    ingest_events(default_workspace(p.other), "SecurityEvent", [{
        "TimeGenerated": (now - timedelta(hours=1)).isoformat(), "Computer": "vm-inv-01",
        "EventID": 4624, "Account": "FABRIKAM\\secret-admin", "IpAddress": BUSY_IP}])
    m = initial_map(incident=incident)
    for _ in range(3):
        for node in sorted(m.g):
            if m.node(node)["kind"] not in ("more",):
                try:
                    expand(m, p.sub.pk, node, incident_id=incident.pk)
                except ExpandError:
                    pass
    from alerts.models import Alert, Entity
    from incidents.models import Incident
    assert not Alert.objects.filter(pk__in=m.ids_of("alert")).exclude(subscription=p.sub)
    assert not Entity.objects.filter(pk__in=m.ids_of("entity")).exclude(subscription=p.sub)
    assert not Incident.objects.filter(pk__in=m.ids_of("incident")).exclude(subscription=p.sub)
    assert f"incident:{theirs.pk}" not in m.g
    assert not any("FABRIKAM" in a["label"] or "fab" in a["label"]
                   for _, a in m.g.nodes(data=True))


def test_a_host_expands_into_what_its_security_events_say(p):
    incident, _ = incident_with(p.sub, count=1, host="vm-inv-01")
    now = timezone.now()
    at = (now - timedelta(hours=2)).isoformat()
    ingest_events(default_workspace(p.sub), "SecurityEvent", [
        {"TimeGenerated": at, "Computer": "vm-inv-01.contoso.local", "EventID": 4624,
         "Account": "CONTOSO\\alice", "IpAddress": "203.0.113.50"},
        {"TimeGenerated": at, "Computer": "vm-inv-01.contoso.local", "EventID": 4624,
         "Account": "CONTOSO\\mallory", "IpAddress": "192.0.2.66"},
        {"TimeGenerated": at, "Computer": "vm-inv-01.contoso.local", "EventID": 4688,
         "Account": "CONTOSO\\mallory", "NewProcessName": "C:\\Tools\\mimikatz.exe"},
        {"TimeGenerated": at, "Computer": "vm-elsewhere", "EventID": 4624,
         "Account": "CONTOSO\\nobody", "IpAddress": "192.0.2.99"},
    ])
    m = initial_map(incident=incident)
    host = node_of(m, "host", "vm-inv-01")
    alice = node_of(m, "account", "CONTOSO\\alice")
    added = expand(m, p.sub.pk, host, incident_id=incident.pk)
    assert labels(m, added) == ["192.0.2.66", "CONTOSO\\mallory", "mimikatz.exe"]
    assert all(m.node(n).get("origin") == "events" for n in added)
    mallory = node_of(m, "account", "CONTOSO\\mallory")
    assert m.g.has_edge(mallory, host, key="logged on to")
    # A value that names a known entity joins it: alice's logon is an edge, not a node.
    assert m.g.has_edge(alice, host, key="logged on to")
    # An events-only account expands through the events too.
    assert expand(m, p.sub.pk, mallory) == []


def test_an_alert_expands_into_its_entities_and_incident(p):
    incident, alerts = incident_with(p.sub, count=2)
    m = build_collapsed(p, incident)
    assert expand(m, p.sub.pk, "group:alerts", incident_id=incident.pk)
    first = f"alert:{alerts[0].pk}"
    added = expand(m, p.sub.pk, first, incident_id=incident.pk)
    assert labels(m, added) == ["203.0.113.50", "CONTOSO\\alice", "powershell.exe",
                                "powershell.exe -enc AAAA", "vm-inv-01"]
    assert m.g.has_edge(first, node_of(m, "host", "vm-inv-01"), key="involves")


def build_collapsed(p, incident):
    from investigation import layout
    from investigation.graph import build

    m = build(p.sub.pk, incident=incident, max_alerts=1)
    layout.place(m)
    return m


def test_a_collapsed_kind_expands_into_its_entities(p):
    incident, _ = incident_with(p.sub, count=2)
    m = build_collapsed(p, incident)
    added = expand(m, p.sub.pk, "group:host", incident_id=incident.pk)
    assert labels(m, added) == ["vm-inv-01"]
    assert m.g.has_edge("group:host", added[0], key="member")


def test_it_refuses_a_node_that_is_not_on_the_map(p):
    incident, _ = incident_with(p.sub, count=1)
    m = initial_map(incident=incident)
    with pytest.raises(ExpandError):
        expand(m, p.sub.pk, "entity:999999")
    m.add_node("entity:999999", "host", "forged")
    with pytest.raises(ExpandError):
        expand(m, p.sub.pk, "entity:999999")


def test_the_queries_of_an_expansion_do_not_grow_with_the_alerts_of_the_entity(p):
    [alert] = ingest(p.sub, [native_alert(entities=[{"$id": "1", "Type": "ip",
                                                      "Address": BUSY_IP}])])
    busy(p.sub, 60)
    m = initial_map(alert=alert)
    ip = node_of(m, "ip", BUSY_IP)
    with CaptureQueriesContext(connection) as few:
        expand(m, p.sub.pk, ip)
    busy(p.sub, 120, prefix="more")
    m = initial_map(alert=alert)
    with CaptureQueriesContext(connection) as many:
        added = expand(m, p.sub.pk, ip)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert m.node(f"more:{ip}")["count"] == 180 - LIMIT // 2  # other alerts, distinct
    assert len(added) == LIMIT + 1


def test_an_event_that_is_an_alert_entity_is_that_node(p):
    incident, _ = incident_with(p.sub, count=1, host="vm-inv-01")
    [explorer] = ingest(p.sub, [native_alert(
        id="explorer", compromised_entity="vm-inv-01", entities=[
            {"$id": "1", "Type": "host", "HostName": "vm-inv-01", "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "process", "ProcessId": "77",
             "CommandLine": "C:\\Windows\\explorer.exe", "Host": {"$ref": "1"},
             "CreationTimeUtc": "2026-11-27T09:00:00Z"}])])
    at = (timezone.now() - timedelta(hours=2)).isoformat()
    ingest_events(default_workspace(p.sub), "SecurityEvent", [
        # The alert's powershell.exe (its image file), written another way.
        {"TimeGenerated": at, "Computer": "vm-inv-01.contoso.local", "EventID": 4688,
         "Account": "CONTOSO\\alice", "NewProcessName": "c:\\windows\\system32\\POWERSHELL.EXE"},
        # A process an alert knows by its command line only.
        {"TimeGenerated": at, "Computer": "vm-inv-01", "EventID": 4688,
         "Account": "CONTOSO\\alice", "NewProcessName": "C:\\Windows\\explorer.exe"},
        # The same program elsewhere on disk is another program.
        {"TimeGenerated": at, "Computer": "vm-inv-01", "EventID": 4688,
         "Account": "CONTOSO\\alice", "NewProcessName": "C:\\Temp\\powershell.exe"},
        # The alert's account and address, in other cases.
        {"TimeGenerated": at, "Computer": "vm-inv-01", "EventID": 4624,
         "Account": "contoso\\ALICE", "IpAddress": "203.0.113.50"},
    ])
    m = initial_map(incident=incident)
    host = node_of(m, "host", "vm-inv-01")
    process = node_of(m, "process", "powershell.exe -enc AAAA")
    alice = node_of(m, "account", "CONTOSO\\alice")
    added = expand(m, p.sub.pk, host, incident_id=incident.pk)
    # powershell.exe and the account are their alert nodes; explorer.exe joins as its own
    # (alert) entity, with its alert; only the program in C:\Temp is new from the events.
    assert sorted((m.node(n)["kind"], m.node(n)["label"], m.node(n).get("origin"))
                  for n in added) == [("alert", explorer.display_name, None),
                                      ("process", "C:\\Windows\\explorer.exe", None),
                                      ("process", "powershell.exe", "events")]
    explorer_node = next(n for n in added if m.node(n)["kind"] == "process"
                         and m.node(n).get("origin") is None)
    assert explorer_node.startswith("entity:")
    assert m.node(process)["events"]["Runs"] == 1
    assert m.node(process)["events"]["NewProcessName"] == "c:\\windows\\system32\\POWERSHELL.EXE"
    assert m.node(explorer_node)["events"]["Runs"] == 1
    assert m.node(alice)["events"]["Logons"] == 1
    assert m.g.has_edge(alice, host, key="logged on to")
    assert not any(n.startswith("ev:account:") or n.startswith("ev:ip:") for n in m.g)
    # Saved and read back, the evidence stays with the node.
    from investigation.graph import Map, as_json
    again = Map.from_state(m.to_state())
    assert again.node(process)["events"]["Runs"] == 1
    exported = {n["id"]: n for n in as_json(again, p.sub.pk)["nodes"]}
    assert exported[process]["properties"]["events"]["Runs"] == 1


def test_the_demo_host_expands_into_one_node_per_process_and_12_at_most(db):
    from django.utils import timezone

    from alerts.demo import seed_alerts
    from alerts.models import Entity
    from incidents.correlation import correlate
    from incidents.models import Incident
    from inventory.demo import PRODUCTION, seed_estate
    from search.demo import seed_events

    subs = seed_estate()
    seed_alerts(subs, timezone.now())
    seed_events(subs[PRODUCTION])
    correlate()
    sub = subs[PRODUCTION]
    incident = Incident.objects.get(subscription=sub, title__contains="vm-web-01")
    m = initial_map(incident=incident)
    host = f"entity:{Entity.objects.get(subscription=sub, kind='host', label='vm-web-01').pk}"
    added = expand(m, sub.pk, host, incident_id=incident.pk)
    assert len(added) == LIMIT + 1 and added[-1] == f"more:{host}"
    from investigation.drawing import _basename
    programs = [_basename(m.node(n)["label"].split(" ")[0]).lower() for n in m.g
                if m.node(n)["kind"] == "process"]
    assert sorted(programs) == ["explorer.exe", "powershell.exe", "rundll32.exe",
                                "svchost.exe"]
    # "+N more" brings the next ones, 12 at a time, until none is left.
    total = len(added) - 1 + m.node(f"more:{host}")["count"]
    while f"more:{host}" in m.g:
        assert len([n for n in expand(m, sub.pk, f"more:{host}", incident_id=incident.pk)
                    if not n.startswith("more:")]) <= LIMIT
    assert m.g.number_of_nodes() == 21 + total


def test_a_program_in_a_folder_with_spaces_is_its_alert_process(p):
    [alert] = ingest(p.sub, [native_alert(
        id="w3wp", compromised_entity="vm-iis-01", entities=[
            {"$id": "1", "Type": "host", "HostName": "vm-iis-01"},
            {"$id": "2", "Type": "process", "ProcessId": "9", "Host": {"$ref": "1"},
             "CommandLine": {"not": "text"}, "CreationTimeUtc": "2026-11-27T09:00:00Z",
             "ImageFile": {"$id": "3", "Type": "file", "Name": "w3wp.com",
                           "Directory": "C:\\Program Files\\IIS\\"}}])])
    ingest_events(default_workspace(p.sub), "SecurityEvent", [
        {"TimeGenerated": (timezone.now() - timedelta(hours=1)).isoformat(),
         "Computer": "vm-iis-01", "EventID": 4688, "Account": "IIS\\pool",
         "NewProcessName": "C:\\Program Files\\IIS\\w3wp.com"}])
    m = initial_map(alert=alert)
    host = node_of(m, "host", "vm-iis-01")
    expand(m, p.sub.pk, host)
    assert not any(n.startswith("ev:process:") for n in m.g)
    [process] = [n for n, a in m.g.nodes(data=True) if a["kind"] == "process"]
    assert m.node(process)["events"]["Runs"] == 1
