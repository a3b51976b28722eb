"""Merging entity mentions into entities (FORMATS.md, "Entity identity")."""

import json
import random

from alerts.models import Alert, AlertEntity, Entity, EntityIdentifier
from tests.alerts.helpers import ingest, mention, mention_partition, native, sentinel_rows
from tests.conftest import make_subscription

AZ_A = "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/web1"
AZ_B = "/subscriptions/S2/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/web1"
WIN1_AZURE_ID = ("/subscriptions/40dcc8bf-0478-4f3b-b275-ed0a94f2c013/resourceGroups/"
                 "ASIHuntOMSWorkspaceRG/providers/Microsoft.Compute/virtualMachines/"
                 "MSTICAlertsWin1")


def host(**props):
    return {"$id": "1", "Type": "host", **props}


def alert_of(key):
    return Alert.objects.get(key=key)


def test_it_makes_two_mentions_sharing_a_strong_identifier_one_entity(p):
    ingest(p.sub, native("s-1", [
        host(HostName="box-one", OMSAgentID="0b2e-agent"),
        {"$id": "2", "Type": "ip", "Address": "10.1.1.1"}]))
    ingest(p.sub, native("s-2", [
        host(HostName="BOX-RENAMED", OMSAgentID="0B2E-AGENT"),
        {"$id": "2", "Type": "ip", "Address": "10.1.1.1"}]))

    first, second = alert_of("s-1"), alert_of("s-2")
    assert mention(first, 0).entity_id == mention(second, 0).entity_id
    assert mention(first, 1).entity_id == mention(second, 1).entity_id
    assert (mention(first, 0).matched_by, mention(second, 0).matched_by) == ("new", "strong")
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 1
    assert Entity.objects.filter(subscription=p.sub, kind="ip").count() == 1
    # Each alert keeps its own view beside the merged entity.
    assert mention(second, 0).props["HostName"] == "BOX-RENAMED"
    assert mention(first, 0).props["HostName"] == "box-one"


def test_it_merges_a_host_seen_by_name_and_netbios_with_its_azure_id_mention(p):
    by_name = [host(HostName="MSTICAlertsWin1", NetBiosName="MSTICAlertsWin1")]
    by_id = [host(HostName="msticalertswin1", AzureID=WIN1_AZURE_ID,
                  OMSAgentID="263a788b-6526-4cdc-8ed9-d79402fe4aa0")]
    # Either order, in separate deliveries and in one batch.
    ingest(p.sub, native("n-1", by_name))
    ingest(p.sub, native("n-2", by_id))
    ingest(p.other, native("n-2", by_id))
    ingest(p.other, native("n-1", by_name))
    batch = make_subscription("Batch")
    ingest(batch, [native("n-2", by_id), native("n-1", by_name)])

    for sub in (p.sub, p.other, batch):
        hosts = Entity.objects.filter(subscription=sub, kind="host")
        assert hosts.count() == 1, sub
        assert AlertEntity.objects.filter(alert__subscription=sub,
                                          entity=hosts.get()).count() == 2


def test_it_keeps_two_azure_ids_with_one_host_name_as_two_hosts(p):
    ingest(p.sub, native("az-a", [host(HostName="web1", AzureID=AZ_A)]))
    ingest(p.sub, native("az-b", [host(HostName="web1", AzureID=AZ_B)]))

    assert mention(alert_of("az-a"), 0).entity_id != mention(alert_of("az-b"), 0).entity_id
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 2
    assert EntityIdentifier.objects.filter(subscription=p.sub, strong=True,
                                           value__startswith="host|azureid|").count() == 2


def test_it_joins_a_name_only_mention_to_the_one_entity_with_that_name(p):
    ingest(p.sub, native("one-a", [host(HostName="web9", AzureID=AZ_A)]))
    ingest(p.sub, native("one-name", [host(HostName="WEB9")]))

    joined = mention(alert_of("one-name"), 0)
    assert joined.entity_id == mention(alert_of("one-a"), 0).entity_id
    assert joined.matched_by == "weak"
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 1


def test_it_leaves_a_name_only_mention_alone_when_two_entities_contradict(p):
    ingest(p.sub, native("c-a", [host(HostName="web1", AzureID=AZ_A)]))
    ingest(p.sub, native("c-b", [host(HostName="web1", AzureID=AZ_B)]))
    ingest(p.sub, native("c-name", [host(HostName="web1")]))

    a, b = mention(alert_of("c-a"), 0), mention(alert_of("c-b"), 0)
    alone = mention(alert_of("c-name"), 0)
    assert len({a.entity_id, b.entity_id, alone.entity_id}) == 3
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 3


def _order_items():
    """The Sentinel fixture's rows and hand-made alerts around the ambiguous host name web1."""
    items = [json.dumps(row).encode() for row in sentinel_rows()]
    hand_made = [
        native("amb-name-1", [host(HostName="web1"),
                              {"$id": "2", "Type": "account", "Name": "bob"}]),
        native("amb-a", [host(HostName="web1", AzureID=AZ_A),
                         {"$id": "2", "Type": "ip", "Address": "10.9.9.9"}]),
        native("amb-b", [host(HostName="WEB1", AzureID=AZ_B)]),
        native("amb-name-2", [host(NetBiosName="web1")]),
        native("amb-lx", [host(HostName="lnx-build-03")]),
        native("amb-win", [host(HostName="WIN-FIN-07", NetBiosName="win-fin-07")]),
    ]
    return items + [json.dumps(item).encode() for item in hand_made]


def _ingest_in_order(seed, one_by_one):
    items = _order_items()
    random.Random(seed).shuffle(items)
    sub = make_subscription(f"Order {seed} {one_by_one}")
    if one_by_one:
        for item in items:
            ingest(sub, item, "application/x-ndjson")
    else:
        ingest(sub, b"\n".join(items), "application/x-ndjson")
    assert Alert.objects.filter(subscription=sub).count() == 12
    return mention_partition(sub)


def _group_of(partition, key, position=0):
    return next(group for group in partition if (key, position) in group)


def _check_order_independence(one_by_one):
    partitions = [_ingest_in_order(seed, one_by_one) for seed in range(8)]
    first = partitions[0]
    for seed, partition in enumerate(partitions[1:], start=1):
        assert partition == first, f"order {seed} partitions the mentions differently"
    # And the partition is the one FORMATS.md describes.
    a, b = _group_of(first, "amb-a"), _group_of(first, "amb-b")
    name_only = _group_of(first, "amb-name-1")
    assert a == {("amb-a", 0)}
    assert b == {("amb-b", 0)}
    assert name_only == {("amb-name-1", 0), ("amb-name-2", 0)}
    lx = _group_of(first, "amb-lx")
    assert len(lx) == 6  # 5 Sentinel alerts name the Linux VM, plus amb-lx
    win = _group_of(first, "amb-win")
    assert win == {("amb-win", 0), ("2516940000000000400_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c40",
                                    0)}


def test_it_partitions_mentions_the_same_in_any_order_one_alert_at_a_time(p):
    _check_order_independence(one_by_one=True)


def test_it_partitions_mentions_the_same_in_any_order_in_one_batch(p):
    _check_order_independence(one_by_one=False)


def test_it_never_merges_unknown_entity_types(p):
    pod = {"$id": "1", "Type": "K8s-pod", "Name": "pod-1", "Namespace": "default"}
    first = ingest(p.sub, native("k-1", [pod]))
    ingest(p.sub, native("k-2", [pod]))
    ingest(p.sub, [native("k-3", [pod]), native("k-4", [pod])])

    pods = Entity.objects.filter(subscription=p.sub, kind="k8s-pod")
    assert pods.count() == 4
    assert not any(pods.values_list("known", flat=True))
    assert len({mention(alert_of(k), 0).entity_id for k in ("k-1", "k-2", "k-3", "k-4")}) == 4
    assert [w["code"] for w in first.results[0].warnings] == ["unknown_entity_type"]
    assert mention(alert_of("k-1"), 0).props == pod


def test_it_never_merges_a_process_known_only_by_its_id(p):
    entities = [host(HostName="srv1", NTDomain="CORP"),
                {"$id": "2", "Type": "process", "ProcessId": "0x1234", "Host": {"$ref": "1"}}]
    ingest(p.sub, native("pid-1", entities))
    ingest(p.sub, native("pid-2", entities))
    ingest(p.sub, [native("pid-3", entities), native("pid-4", entities)])

    processes = {mention(alert_of(k), 1).entity_id for k in ("pid-1", "pid-2", "pid-3", "pid-4")}
    assert len(processes) == 4
    assert Entity.objects.filter(subscription=p.sub, kind="process").count() == 4
    hosts = {mention(alert_of(k), 0).entity_id for k in ("pid-1", "pid-2", "pid-3", "pid-4")}
    assert len(hosts) == 1


def test_it_never_merges_entities_of_two_subscriptions(p):
    entities = [host(HostName="shared", AzureID=AZ_A),
                {"$id": "2", "Type": "ip", "Address": "10.0.0.5"},
                {"$id": "3", "Type": "account", "Name": "carol", "AadUserId": "aad-1"}]
    ingest(p.sub, native("x-1", entities))
    ingest(p.other, native("x-1", entities))

    mine = Alert.objects.get(subscription=p.sub)
    theirs = Alert.objects.get(subscription=p.other)
    for position in range(3):
        a, b = mention(mine, position), mention(theirs, position)
        assert a.entity_id != b.entity_id
        assert (a.entity.subscription_id, b.entity.subscription_id) == (p.sub.pk, p.other.pk)
        assert (a.matched_by, b.matched_by) == ("new", "new")
    for sub in (p.sub, p.other):
        assert Entity.objects.filter(subscription=sub).count() == 3
        assert set(EntityIdentifier.objects.filter(entity__subscription=sub)
                   .values_list("subscription_id", flat=True)) == {sub.pk}


def test_a_suppression_rule_follows_its_entity_into_a_merge(p):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import SuppressionRule

    ingest(p.sub, native("m-agent", [host(HostName="box-a", OMSAgentID="agent-7")]))
    ingest(p.sub, native("m-azure", [host(HostName="box-b", AzureID=AZ_A)]))
    hosts = {e.pk for e in Entity.objects.filter(subscription=p.sub, kind="host")}
    assert len(hosts) == 2
    rules = [SuppressionRule.objects.create(
        subscription=p.sub, alert_type="Test_Alert", entity_id=pk, reason=f"rule {pk}",
        expires_at=timezone.now() + timedelta(days=1)) for pk in hosts]
    # One mention carrying both strong identifiers: the two hosts are one.
    ingest(p.sub, native("m-both", [host(HostName="box-a", OMSAgentID="agent-7",
                                         AzureID=AZ_A)]))
    survivor = Entity.objects.get(subscription=p.sub, kind="host")
    assert sorted(SuppressionRule.objects.values_list("pk", "entity_id")) == \
        sorted((r.pk, survivor.pk) for r in rules)
