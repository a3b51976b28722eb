"""Two batches sharing entities, ingested at the same time, neither deadlock nor duplicate."""

import threading
from collections import Counter

import pytest
from django.db import connections

from alerts.models import Alert, AlertEntity, Entity, EntityIdentifier
from tests.alerts.helpers import ingest, native

HOSTS = [f"shared-host-{i}" for i in range(5)]
IPS = [f"198.51.100.{i}" for i in range(1, 6)]
ACCOUNTS = [f"user{i}" for i in range(4)]


def batch(prefix, size=50):
    alerts = []
    for i in range(size):
        alerts.append(native(f"{prefix}-{i}", [
            {"$id": "1", "Type": "host", "HostName": HOSTS[i % 5], "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "ip", "Address": IPS[(i + 2) % 5]},
            {"$id": "3", "Type": "account", "Name": ACCOUNTS[i % 4], "NTDomain": "CONTOSO"},
            {"$id": "4", "Type": "host", "HostName": "name-only-host"},
            {"$id": "5", "Type": "ip", "Address": f"203.0.113.{i + (0 if prefix == 'a' else 100)}"},
        ], compromised_entity=HOSTS[i % 5]))
    return alerts


@pytest.mark.django_db(transaction=True)
def test_it_ingests_two_batches_sharing_entities_at_the_same_time(p):
    barrier = threading.Barrier(2, timeout=30)
    errors, reports = [], {}

    def run(name, items):
        try:
            barrier.wait()
            reports[name] = ingest(p.sub, items)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(name, batch(name))) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "an ingest thread hung"
    assert errors == []
    assert [reports[n].accepted for n in ("a", "b")] == [50, 50]
    assert Alert.objects.filter(subscription=p.sub).count() == 100
    assert AlertEntity.objects.filter(alert__subscription=p.sub).count() == 500

    per_label = Counter(Entity.objects.filter(subscription=p.sub)
                        .values_list("kind", "label"))
    for name in HOSTS:
        assert per_label[("host", name)] == 1, name
    assert per_label[("host", "name-only-host")] == 1
    for address in IPS:
        assert per_label[("ip", address)] == 1, address
    for account in ACCOUNTS:
        assert per_label[("account", f"CONTOSO\\{account}")] == 1, account
    assert sum(1 for (kind, _label) in per_label.elements() if kind == "ip") == 5 + 100

    strong = Counter(EntityIdentifier.objects.filter(subscription=p.sub, strong=True)
                     .values_list("value", flat=True))
    assert strong and max(strong.values()) == 1
    for name in HOSTS:
        assert strong[f"host|name-ntdomain|{name}|contoso"] == 1
    for address in IPS:
        assert strong[f"ip|address|{address}"] == 1
    for account in ACCOUNTS:
        assert strong[f"account|name-ntdomain|{account}|contoso"] == 1
    # Every mention of a shared host points at its one entity.
    for name in HOSTS:
        assert AlertEntity.objects.filter(alert__subscription=p.sub, kind="host",
                                          label=name).values("entity").distinct().count() == 1
