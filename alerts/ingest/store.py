"""Storing a batch of items: alerts, entities, relations, duplicates and rejections.

`ingest_body` is what the API and `ingest_alerts` call; every item stands
alone: a refused item is kept with its reason, the others are stored.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from alerts.ingest.merge import Resolver
from alerts.ingest.parse import ItemRejected, RawItem, normalize, split_body
from alerts.ingest.resources import Plan, ResourceFinder
from alerts.models import (
    Alert,
    AlertEntity,
    AlertPayload,
    AwaitingCorrelation,
    ProviderIncident,
    RejectedItem,
    Relation,
    Severity,
    Status,
)
from alerts.signals import alerts_ingested
from alerts.suppression import apply_rules
from inventory import activity, plans
from socconsole.lib.bulk import Encoded, Json, array_literal, bulk_insert, dumps
from socconsole.lib.transient import is_transient, retry_transient

logger = logging.getLogger(__name__)
# pg_advisory_xact_lock(INGEST_LOCK, subscription id): one batch at a time merges the
# entities of a subscription, so concurrent batches neither deadlock nor duplicate.
INGEST_LOCK = 7_300_001
_PROVIDER_STATUS = {"dismissed": Status.DISMISSED, "resolved": Status.RESOLVED}


@dataclass
class ItemResult:
    index: int
    status: str                      # created | duplicate | rejected
    id: int | None = None
    type: str = "alert"              # alert | incident
    error: dict | None = None
    warnings: list = field(default_factory=list)

    def as_dict(self):
        return {"index": self.index, "status": self.status, "type": self.type, "id": self.id,
                "error": self.error, "warnings": self.warnings}


@dataclass
class IngestReport:
    results: list[ItemResult]

    def count(self, status):
        return sum(1 for r in self.results if r.status == status)

    @property
    def accepted(self):
        return self.count("created")

    @property
    def duplicates(self):
        return self.count("duplicate")

    @property
    def rejected(self):
        return self.count("rejected")

    def as_dict(self):
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": self.rejected, "results": [r.as_dict() for r in self.results]}

    def summary(self):
        return (f"{self.accepted} accepted, {self.duplicates} duplicates, "
                f"{self.rejected} rejected")


def ingest_body(subscription, body, content_type, *, actor, token=None, source="api",
                format=None, received_at=None):  # noqa: A002
    """Split a request body and ingest its items. Raises BodyError for an unparseable body."""
    with _without_gc_pauses():
        return ingest_items(subscription, split_body(body, content_type), actor=actor,
                            token=token, source=source, format=format,
                            received_at=received_at)


def ingest_items(subscription, items: list[RawItem], *, actor, token=None, source="api",
                 format=None, keep_rejected=True, origin=None,
                 received_at=None):  # noqa: A002
    """Ingest parsed items; refused ones are kept (unless `keep_rejected` is false).

    Every item stands alone: an item the parser cannot take is refused with its reason,
    and if the database refuses the batch, the batch is stored again item by item so
    that only the culprit is refused. `origin` is the source a replayed item first came
    from (what the Defender plan judges it by). `received_at` is when the items arrived
    (now, unless a loader tells a past delivery, as the demo does)."""
    with _without_gc_pauses():
        return _ingest_items(subscription, items, actor=actor, token=token, source=source,
                             format=format, keep_rejected=keep_rejected,
                             origin=origin or source, received_at=received_at)


@contextmanager
def _without_gc_pauses():
    """A batch allocates hundreds of thousands of objects that all live until it is
    stored: the cyclic garbage collector walked the whole heap again and again for
    nothing (a fifth of the CPU time). It resumes after the batch."""
    if not gc.isenabled():  # another thread's batch, or the caller, already holds it off
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _ingest_items(subscription, items, *, actor, token, source, format,  # noqa: A002
                  keep_rejected, origin, received_at):
    now = received_at or timezone.now()
    accepted, refused = [], []
    plan_off = plans.refusal(subscription)
    for item in items:
        try:
            n = normalize(item.data, format, raw=item.raw)
            if plan_off and plans.covered_by_plan(format=n.format, source=origin):
                raise ItemRejected(plans.REFUSAL_CODE, plan_off)
            accepted.append(_Accepted(item, n, now))
        except ItemRejected as exc:
            refused.append((item, exc))
        except Exception:  # noqa: BLE001 — a parser bug must refuse one item, not the batch
            logger.exception("ingest: item %s could not be normalised", item.index)
            refused.append((item, ItemRejected(
                "internal_error", "This item could not be read because of an error on our "
                "side; it was kept so an admin can replay it after a fix.")))
    options = {"actor": actor, "token": token, "source": source, "format": format,
               "keep_rejected": keep_rejected}
    # A lost connection, a deadlock or a serialization failure is not an item's fault: the
    # whole batch is tried again (and nothing of a failed try stays), then answered 503.
    results = retry_transient(
        lambda: _store_batch(subscription, accepted, list(refused), now, **options),
        what=f"ingest into subscription {subscription.pk}")
    return IngestReport(sorted(results, key=lambda r: r.index))


def _store_batch(subscription, accepted, refused, now, **options):
    """Store the batch; if the database refuses it, store it again item by item so that
    only the culprit is refused."""
    try:
        return _store(subscription, accepted, refused, now, **options)
    except DatabaseError as exc:
        if is_transient(exc):
            raise
        if len(accepted) > 1:
            return _store_one_by_one(subscription, accepted, refused, now, **options)
        logger.exception("ingest: the database refused item(s) %s",
                         [i.index for i, _ in accepted])
        refused += [(item, _STORAGE_ERROR) for item, _ in accepted]
        return _store(subscription, [], refused, now, **options)


_STORAGE_ERROR = ItemRejected(
    "storage_error", "The database refused this item; it was kept so an admin can replay it "
    "after a fix.")


def _store_one_by_one(subscription, accepted, refused, now, **options):
    results = []
    # One transaction, each item in a savepoint: a transient failure part way through
    # leaves nothing stored, so the whole batch can be tried again.
    with transaction.atomic():
        for pair in accepted:
            item = pair[0]
            try:
                results += _store(subscription, [pair], [], now, **options)
            except DatabaseError as exc:
                if is_transient(exc):
                    raise
                logger.exception("ingest: the database refused item %s", item.index)
                refused.append((item, _STORAGE_ERROR))
        return results + _store(subscription, [], refused, now, **options)


def _store(subscription, accepted, refused, now, *, actor, token, source, format,
           keep_rejected):  # noqa: A002
    """One transaction: the accepted items stored, the refused ones kept."""
    results = [ItemResult(item.index, "rejected", error=exc.as_dict()) for item, exc in refused]
    with transaction.atomic():
        _lock(subscription)
        alerts = [pair for pair in accepted if not pair[1].is_incident]
        incidents = [pair for pair in accepted if pair[1].is_incident]
        results += _store_alerts(subscription, alerts, now)
        results += _store_incidents(subscription, incidents, now)
        if keep_rejected:
            _keep_rejected(subscription, refused, token, source, format, now)
        created = [r.id for r in results if r.status == "created" and r.type == "alert"]
        apply_rules(subscription, created, actor)
        if created or any(r.status == "created" for r in results):
            # New alerts, or a producer incident whose alerts must be correlated again.
            alerts_ingested.send(sender=IngestReport, subscription=subscription,
                                 alert_ids=created)
        report = IngestReport(results)
        if accepted or refused:
            activity.record(
                actor=actor, verb="alerts.ingest", target_type="subscription",
                target_id=subscription.pk, target_label=subscription.name,
                subscription=subscription,
                after={"accepted": report.accepted, "duplicates": report.duplicates,
                       "rejected": report.rejected, "source": source})
    return results


def _lock(subscription):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # No JIT for the batch's statements: a lookup the planner overestimates was
            # compiled for several milliseconds to run for a few.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s), set_config('jit', 'off', true)",
                           [INGEST_LOCK, subscription.pk])
    # SQLite: transactions begin IMMEDIATE (settings), which already serialises writers.


def _warnings(n):
    return [w.as_dict() for w in n.warnings]


def _alert_time(n, now):
    return n.detected_time or n.end_time or n.start_time or now


def _json(value):
    return Json(dumps(value))


# The alert's columns: the first three depend on the database, the others on the item.
ALERT_FIELDS = (
    "subscription_id", "resource_id", "occurrence_count",
    "key", "format", "provider", "product", "vendor", "alert_type", "display_name",
    "description", "severity", "provider_status", "status", "tactics", "techniques",
    "start_time", "end_time", "detected_time", "ingested_at", "time", "remediation_steps",
    "extended_properties", "extended_links", "compromised_entity", "resource_ref",
    "correlation_key", "alert_uri", "first_seen", "last_seen", "warnings")


class _Accepted(tuple):
    """An accepted item as the pair (raw item, normalised item), carrying what it writes
    that does not depend on the database: the alert's own columns, its mentions and
    relations without their ids, their JSON serialised (the alert's columns already in
    COPY's format). They are built before the ingest lock is taken, where two requests
    can work at once; under the lock, one at a time."""

    def __new__(cls, item, n, now):
        self = super().__new__(cls, (item, n))
        self.warnings = _warnings(n)
        if n.is_incident:
            return self
        self.alert = Encoded((
            n.key[:512], n.format, n.provider[:200], n.product[:200], n.vendor[:200],
            n.alert_type[:300], n.display_name, n.description, Severity.from_word(n.severity),
            n.provider_status[:32], _PROVIDER_STATUS.get(n.provider_status, Status.ACTIVE),
            _json(n.tactics), _json(n.techniques), n.start_time, n.end_time, n.detected_time,
            now, _alert_time(n, now), _json(n.remediation_steps), _json(n.extended_properties),
            _json(n.extended_links), n.compromised_entity, n.resource_id,
            n.correlation_key[:300], n.alert_uri, now, now, _json(self.warnings)))
        self.mentions = [(m.index, m.kind, m.label[:2000], _json(m.original))
                         for m in n.entities]
        # What a new entity starts from: written as it is unless a later mention adds to it.
        self.entity_props = [dumps(m.props) for m in n.entities]
        self.relations = [(r.source, r.target, r.type[:32], r.prop[:100],
                           (r.target_ref or "")[:100], r.in_cycle) for r in n.relations]
        self.plan = Plan(n)
        return self


def _existing(model, subscription, keys):
    found = {}
    keys = list(dict.fromkeys(keys))
    if connection.vendor == "postgresql" and keys:
        sql = (f"SELECT key, id FROM {model._meta.db_table} WHERE subscription_id = %s "  # noqa: S608 — the model's table
               "AND key = ANY(%s::text[])")
        with connection.cursor() as cursor:
            cursor.execute(sql, [subscription.pk, array_literal(keys)])
            return dict(cursor.fetchall())
    for start in range(0, len(keys), 2000):
        found.update(model.objects.filter(subscription=subscription,
                                          key__in=keys[start:start + 2000])
                     .values_list("key", "pk"))
    return found


def _count_again(model, repeats, now):
    """Raise occurrence counts: one UPDATE per distinct repeat count."""
    by_count = {}
    for pk, times in repeats.items():
        by_count.setdefault(times, []).append(pk)
    for times, pks in by_count.items():
        model.objects.filter(pk__in=pks).update(
            occurrence_count=F("occurrence_count") + times, last_seen=now)


def _store_alerts(subscription, items, now):
    if not items:
        return []
    existing = _existing(Alert, subscription, [n.key for _, n in items])
    results, fresh, first_of, pending = [], [], {}, {}
    repeats, in_batch = Counter(), Counter()
    for pair in items:
        item, n = pair
        if n.key in existing:
            repeats[existing[n.key]] += 1
            results.append(ItemResult(item.index, "duplicate", existing[n.key],
                                      warnings=_warnings(n)))
        elif n.key in first_of:
            in_batch[n.key] += 1
            pending[item.index] = n.key
            results.append(ItemResult(item.index, "duplicate", warnings=_warnings(n)))
        else:
            first_of[n.key] = len(fresh)
            fresh.append(pair)
    _count_again(Alert, repeats, now)
    if not fresh:
        return results

    finder = ResourceFinder(subscription, [n for _, n in fresh],
                            plans=[pair.plan for pair in fresh])
    resolver = Resolver(subscription, [m for _, n in fresh for m in n.entities])
    assignments = []
    for pair in fresh:
        n = pair[1]
        time = _alert_time(n, now)
        assignments.append([resolver.resolve(m, time, text)
                            for m, text in zip(n.entities, pair.entity_props, strict=True)])
    resolver.flush()

    resources = [finder.find(position) for position in range(len(fresh))]
    finder.flush()
    rows = [(subscription.pk, resource.pk if resource else None, 1 + in_batch[pair[1].key],
             pair.alert) for pair, resource in zip(fresh, resources, strict=True)]
    alert_ids = bulk_insert(Alert, ALERT_FIELDS, rows)
    bulk_insert(AlertPayload, ("alert_id", "body"),
                [(pk, item.raw) for pk, (item, _) in zip(alert_ids, fresh, strict=True)],
                explicit_pk=True)
    AwaitingCorrelation.add(subscription.pk, alert_ids, new=True)
    _store_mentions(subscription, alert_ids, fresh, assignments, resolver)

    for pk, pair in zip(alert_ids, fresh, strict=True):
        results.append(ItemResult(pair[0].index, "created", pk, warnings=pair.warnings))
    for result in results:
        if result.index in pending:  # a repeat of an item first seen in this batch
            result.id = alert_ids[first_of[pending[result.index]]]
    return sorted(results, key=lambda r: r.index)


def _store_mentions(subscription, alert_ids, fresh, assignments, resolver):
    rows, keys = [], []
    entity_id = resolver.entity_id
    for alert_id, pair, assigned in zip(alert_ids, fresh, assignments, strict=True):
        for (position, kind, label, props), a in zip(pair.mentions, assigned, strict=True):
            rows.append((alert_id, entity_id(a), position, kind, label, props, a.match, a.on))
            keys.append((alert_id, position))
    ids = bulk_insert(AlertEntity, ("alert_id", "entity_id", "position", "kind", "label",
                                    "props", "matched_by", "matched_on"), rows)
    mention_id = dict(zip(keys, ids, strict=True))
    relations = []
    sub_id = subscription.pk
    for alert_id, pair in zip(alert_ids, fresh, strict=True):
        for source, target, *rest in pair.relations:
            relations.append((
                sub_id, alert_id, mention_id[(alert_id, source)],
                mention_id[(alert_id, target)] if target is not None else None, *rest))
    bulk_insert(Relation, ("subscription_id", "alert_id", "source_id", "target_id", "type",
                           "prop", "target_ref", "in_cycle"), relations, explicit_pk=True)


def _store_incidents(subscription, items, now):
    results = []
    existing = _existing(ProviderIncident, subscription, [n.key for _, n in items])
    repeats = Counter()
    for item, n in items:
        pk = existing.get(n.key)
        if pk is not None:
            repeats[pk] += 1
            results.append(ItemResult(item.index, "duplicate", pk, "incident", None,
                                      _warnings(n)))
            continue
        # Alerts it lists that are already here are correlated again, into it.
        AwaitingCorrelation.add(subscription.pk, Alert.objects.filter(
            subscription=subscription, key__in=n.incident_alert_ids[:10000])
            .values_list("pk", flat=True))
        incident = ProviderIncident.objects.create(
            subscription=subscription, key=n.key[:512], provider=n.provider[:200],
            display_name=n.display_name, description=n.description,
            severity=Severity.from_word(n.severity), alert_keys=n.incident_alert_ids,
            time=_alert_time(n, now), last_seen=now, body=item.raw, warnings=_warnings(n))
        existing[n.key] = incident.pk
        results.append(ItemResult(item.index, "created", incident.pk, "incident", None,
                                  _warnings(n)))
    _count_again(ProviderIncident, repeats, now)
    return results


def _keep_rejected(subscription, refused, token, source, format, now):  # noqa: A002
    RejectedItem.objects.bulk_create([
        RejectedItem(subscription=subscription, token=token, source=source, index=item.index,
                     format=format or "", body=item.raw, code=exc.code, message=exc.message,
                     field=exc.field or "", received_at=now)
        for item, exc in refused])
