"""Reading alerts: the ranked list (keyset) and one alert with everything behind it."""

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist

from alerts.models import Alert, AlertEntity, AlertPayload, Relation, Status
from inventory.models import Activity
from socconsole.lib.paging import keyset_page

RANK = ("severity", "-time", "-id")
LIST_FIELDS = ("id", "subscription_id", "resource_id", "key", "format", "provider", "product",
               "alert_type", "display_name", "severity", "status", "verdict",
               "suppressed_by_id", "provider_status", "tactics",
               "techniques", "time", "start_time", "end_time", "detected_time", "ingested_at",
               "occurrence_count", "first_seen", "last_seen", "compromised_entity",
               "resource__id", "resource__name", "resource__kind", "resource__external_id",
               "resource__owner_name", "resource__owner_email")


def alert_page(subscription, *, severities=(), statuses=(), resource=None, since=None,
               until=None, alert_type=None, verdict=None, cursor=None, size=50):
    """One page of a subscription's alerts ranked by severity then time; no payloads."""
    qs = Alert.objects.filter(subscription=subscription).select_related("resource")\
        .only(*LIST_FIELDS)
    if severities:
        qs = qs.filter(severity__in=severities)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if resource:
        qs = qs.filter(resource_id=resource)
    if alert_type is not None:
        qs = qs.filter(alert_type=alert_type)
    if verdict:
        qs = qs.filter(verdict=verdict)
    if since:
        qs = qs.filter(time__gte=since)
    if until:
        qs = qs.filter(time__lt=until)
    return keyset_page(qs, RANK, cursor, size)


@dataclass
class AlertDetails:
    alert: Alert
    mentions: list
    relations: list
    raw: bytes | None = None

    @property
    def raw_text(self):
        return bytes(self.raw).decode("utf-8", "replace") if self.raw is not None else ""

    def groups(self):
        """Mentions grouped by kind, each with the relations leaving it."""
        out_edges = {}
        for r in self.relations:
            out_edges.setdefault(r.source_id, []).append(r)
        groups = {}
        for m in self.mentions:
            m.edges = out_edges.get(m.pk, [])
            groups.setdefault(m.kind, []).append(m)
        return sorted(groups.items(), key=lambda kv: _KIND_ORDER.get(kv[0], 99))


_KIND_ORDER = {k: i for i, k in enumerate(
    ["host", "account", "ip", "process", "file", "filehash", "url", "dns", "azure-resource",
     "host-logon-session", "registry-key", "registry-value", "malware", "mailbox"])}


def alert_details(queryset, pk, with_raw=True):
    """Raises Alert.DoesNotExist (or ValueError) for an alert outside `queryset`."""
    alert = queryset.select_related("resource").get(pk=pk)
    mentions = list(AlertEntity.objects.filter(alert=alert).select_related("entity")
                    .order_by("position"))
    relations = list(Relation.objects.filter(alert=alert).select_related("source", "target")
                     .order_by("id"))
    raw = None
    if with_raw:
        raw = AlertPayload.objects.filter(alert=alert).values_list("body", flat=True).first()
    return AlertDetails(alert, mentions, relations, raw)


def provider_incidents_of(alert):
    """The producer's own incidents (IsIncident items) that list this alert."""
    from django.db import connection

    from alerts.models import ProviderIncident

    qs = ProviderIncident.objects.filter(subscription_id=alert.subscription_id)\
        .defer("body").order_by("-time")
    if connection.vendor == "postgresql":
        return list(qs.filter(alert_keys__contains=[alert.key]))
    return [i for i in qs if alert.key in i.alert_keys]  # no JSON containment on SQLite


@dataclass
class Arrival:
    """Alerts of an incident that came in one delivery, as a timeline entry."""

    created_at: object
    actor_label: str
    names: list
    actor_kind = "system"
    target_type = "alerts"
    verb = "alerts.arrived"
    reason = ""
    after = None

    @property
    def target_label(self):
        if len(self.names) == 1:
            return f"the alert «{self.names[0]}» arrived"
        shown = ", ".join(f"«{n}»" for n in self.names[:ARRIVAL_NAMES])
        more = len(self.names) - ARRIVAL_NAMES
        return f"{len(self.names)} alerts arrived: {shown}" + (f" and {more} more"
                                                                if more > 0 else "")


ARRIVAL_NAMES = 5


ACTIVITY_SHOWN = 500
STATUS_VERBS = ("alert.dismiss", "alert.resolve", "alert.activate", "alert.suppress")


def alert_activity(alert):
    """The alert's own activity (comments, triage, suppression), oldest first: the latest
    ACTIVITY_SHOWN entries."""
    entries = list(Activity.objects.filter(target_type="alert", target_id=str(alert.pk))
                   .order_by("-created_at", "-id")[:ACTIVITY_SHOWN])
    entries.reverse()
    return entries


def dismissing_rule(alert, entries):
    """The suppression rule whose dismissal of the alert stands, or None: set on the alert,
    and the alert's latest status change is that rule's (not a later one by a person)."""
    if alert.suppressed_by_id is None or alert.status != Status.DISMISSED:
        return None
    changes = [e for e in entries if e.verb in STATUS_VERBS]
    if changes and changes[-1].verb == "alert.suppress" and \
            (changes[-1].after or {}).get("rule") == alert.suppressed_by_id:
        return alert.suppressed_by
    return None


def incident_of(alert):
    """The incident holding the alert (a standalone alert's is an incident of one), or
    None before correlation. Read through the reverse relation: alerts does not import
    the app above it. Select "membership__incident" with the alert to save the queries."""
    try:
        return alert.membership.incident
    except ObjectDoesNotExist:
        return None
