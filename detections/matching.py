"""Matching alert entities against the subscription's active indicators, in batches (a
Celery task after each ingest, and a retro-hunt over the last 14 days when indicators are
imported), never on the request path.

An entity's candidate keys come from its identifiers (`ip|address|…`, `dns|domain|…`,
`url|url|…`, `filehash|sha256|…`) and, for accounts, its name with and without its
domain. Exact keys are looked up in one query; an address is also tested against the
CIDR indicators, one set lookup per distinct prefix length.
"""

import ipaddress
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from alerts.models import AlertEntity, EntityIdentifier

from .models import EntityMatch, Indicator

RETRO_DAYS = 14
BATCH = 2000
_HASHES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}


def _keys(kind, label, identifiers):
    keys = set()
    for ident in identifiers:
        family, _, rest = ident.partition("|")
        tag, _, value = rest.partition("|")
        if family == "ip" and tag == "address":
            keys.add(("ip", value))
        elif family == "dns" and tag == "domain":
            keys.add(("domain", value))
        elif family == "url" and tag == "url":
            keys.add(("url", value))
            scheme, sep, tail = value.partition("://")
            if sep and "/" not in tail:
                keys.add(("url", f"{value}/"))
        elif family == "filehash" and tag in _HASHES:
            keys.add((_HASHES[tag], value))
        elif family == "account" and tag == "name":
            keys.add(("account", value.split("|")[0]))
    if kind == "account" and label:
        name = label.lower()
        keys.add(("account", name))
        keys.add(("account", name.rsplit("\\", 1)[-1].split("@")[0]))
    return keys


def match_entities(subscription_id: int, entity_ids, alert_of=None, now=None) -> int:
    """Mark each entity (of `entity_ids`) that an active indicator names; returns how many
    new marks were made. `alert_of` maps an entity to the latest alert naming it."""
    now = now or timezone.now()
    alert_of = alert_of or {}
    indicators = Indicator.objects.active(subscription_id, now)
    cidrs = defaultdict(dict)  # prefix length -> {network: indicator id}
    for pk, value in indicators.filter(type="ip", value__contains="/").values_list("pk",
                                                                                    "value"):
        network = ipaddress.ip_network(value)
        cidrs[(network.version, network.prefixlen)][network] = pk
    made = 0
    entity_ids = list(entity_ids)
    for start in range(0, len(entity_ids), BATCH):
        chunk = entity_ids[start:start + BATCH]
        identifiers = defaultdict(list)
        for entity_id, value in EntityIdentifier.objects.filter(entity_id__in=chunk)\
                .values_list("entity_id", "value"):
            identifiers[entity_id].append(value)
        labels = dict(AlertEntity.objects.filter(entity_id__in=chunk, kind="account")
                      .values_list("entity_id", "label"))
        keys_of = {e: _keys("account" if e in labels else "", labels.get(e, ""),
                            identifiers.get(e, [])) for e in chunk}
        wanted = {key for keys in keys_of.values() for key in keys}
        by_key = {}
        for kind in {k for k, _ in wanted}:
            values = [v for k, v in wanted if k == kind]
            for pk, value in indicators.filter(type=kind, value__in=values)\
                    .values_list("pk", "value"):
                by_key[(kind, value)] = pk
        marks = []
        for entity_id, keys in keys_of.items():
            hits = {by_key[k] for k in keys if k in by_key}
            for kind, value in keys:
                if kind == "ip" and cidrs:
                    hits |= _in_ranges(value, cidrs)
            marks += [EntityMatch(indicator_id=i, entity_id=entity_id,
                                  subscription_id=subscription_id,
                                  last_alert_id=alert_of.get(entity_id)) for i in hits]
        if marks:
            with transaction.atomic():
                before = EntityMatch.objects.filter(entity_id__in=chunk).count()
                EntityMatch.objects.bulk_create(marks, ignore_conflicts=True)
                made += EntityMatch.objects.filter(entity_id__in=chunk).count() - before
    return made


def _in_ranges(value, cidrs):
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return set()
    hits = set()
    for (version, bits), networks in cidrs.items():
        if version != address.version:
            continue
        network = ipaddress.ip_network(f"{address}/{bits}", strict=False)
        if network in networks:
            hits.add(networks[network])
    return hits


def match_alerts(subscription_id: int, alert_ids) -> int:
    """The entities of newly ingested alerts."""
    alert_of = {}
    for alert_id, entity_id in AlertEntity.objects.filter(alert_id__in=list(alert_ids))\
            .order_by("alert_id").values_list("alert_id", "entity_id"):
        alert_of[entity_id] = alert_id
    return match_entities(subscription_id, list(alert_of), alert_of)


def retro_hunt(subscription_id: int, days: int = RETRO_DAYS, now=None) -> int:
    """The entities of the last `days` of alerts, against the indicators held now (after
    an import): bounded by time, in batches."""
    now = now or timezone.now()
    alert_of = {}
    for alert_id, entity_id in AlertEntity.objects.filter(
            alert__subscription_id=subscription_id,
            alert__ingested_at__gte=now - timedelta(days=days))\
            .order_by("alert_id").values_list("alert_id", "entity_id").iterator(chunk_size=5000):
        alert_of[entity_id] = alert_id
    return match_entities(subscription_id, list(alert_of), alert_of, now)


def matches_of(entity_id: int):
    return (Indicator.objects.filter(matches__entity_id=entity_id)
            .order_by("-severity", "type", "value"))
