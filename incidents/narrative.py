"""What an incident says of itself: its description and the reasons its alerts belong
together, written when it is read.

Correlation keeps an incident's figures (count, times, worst active severity,
tactics) as alerts arrive; the words are derived here from those figures and the
incident's first and latest alerts, read through the membership index, so they
are always those of the alerts it holds now and cost correlation nothing.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from alerts import tactics as killchain
from alerts.models import Alert, AlertEntity, ProviderIncident
from incidents.models import IncidentAlert

# Kinds whose sharing says something about an attack (a host is the resource itself).
TELLING_KINDS = ("ip", "account", "filehash", "file", "url", "dns", "process", "malware",
                 "mailbox", "azure-resource")
SAMPLE = 6  # alerts read at each end of an incident
STEPS = 12  # alerts named in a description


@dataclass(frozen=True)
class Narrative:
    description: str = ""
    reasons: list = field(default_factory=list)


def narrate(incident):
    """The incident's description and reasons (none for an alert standing alone)."""
    if incident.standalone:
        return Narrative()
    members = IncidentAlert.objects.filter(incident_id=incident.pk)
    ids = {*members.order_by("time", "alert_id").values_list("alert_id", flat=True)[:SAMPLE],
           *members.order_by("-time", "-alert_id").values_list("alert_id", flat=True)
           [:SAMPLE]}
    alerts = sorted(Alert.objects.filter(pk__in=ids).only("display_name", "tactics", "time"),
                    key=lambda a: (a.time, a.pk))
    if not alerts:
        return Narrative()
    where = incident.resource.name if incident.resource_id else "an unknown resource"
    provider = ProviderIncident.objects.filter(
        subscription_id=incident.subscription_id, key=incident.provider_key).first() \
        if incident.provider_key else None
    return Narrative(
        description=describe(alerts, where, incident.alert_count, incident.first_time,
                             incident.last_time),
        reasons=reasons(alerts, where, provider, incident.alert_count))


def stage(alert):
    """An alert's earliest kill-chain stage, or ""."""
    return min((t for t in alert.tactics if t in killchain.ORDER), key=killchain.ORDER.get,
               default="")


def stage_words(alert):
    """All of an alert's kill-chain stages in order, as words: "Command and control,
    Exfiltration"."""
    return ", ".join(killchain.LABELS[t] for t in killchain.in_order(
        [t for t in alert.tactics if t in killchain.ORDER]))


def describe(alerts, where, count, first, last):
    """`alerts` are its first and latest (all when few), `first` and `last` its times."""
    staged = sorted(((killchain.ORDER.get(stage(a), 99), a.time, a.pk, a) for a in alerts),
                    key=lambda row: row[:3])
    steps = " → ".join(a.display_name + (f" ({words})" if (words := stage_words(a)) else "")
                       for *_, a in staged[:STEPS])
    more = f" and {count - STEPS} more" if count > STEPS else ""
    return (f"{count} alerts on {where} between {first:%Y-%m-%d %H:%M} and "
            f"{last:%Y-%m-%d %H:%M} UTC, in kill-chain order: {steps}{more}.")


def reasons(alerts, where, provider, count):
    hours = settings.CORRELATION_WINDOW_HOURS
    out = [{"code": "same_resource", "text": f"All {count} alerts are on {where}."},
           {"code": "within_window", "text": f"Each alert is within {hours} hours of another."}]
    for label in shared_entities([a.pk for a in alerts])[:5]:
        out.append({"code": "shared_entity", "text": f"They share {label}."})
    # In time order, each alert starts no earlier in the kill chain than the one before.
    stages = [s for s in map(stage, alerts) if s]
    covered = killchain.in_order([t for a in alerts for t in a.tactics if t in killchain.ORDER])
    if len(covered) >= 2 and [killchain.ORDER[s] for s in stages] == \
            sorted(killchain.ORDER[s] for s in stages):
        out.append({"code": "kill_chain", "text": "Their tactics follow the kill chain: "
                    + " → ".join(killchain.LABELS[s] for s in covered) + "."})
    if provider:
        out.append({"code": "provider",
                    "text": f"{provider.provider or 'The producer'} grouped them as "
                            f"“{provider.display_name}”."})
    return out


def shared_entities(alert_ids):
    """'the ip 203.0.113.87'-like labels of telling entities two or more alerts share,
    addresses and accounts first: they say most about an attack."""
    counts, labels = defaultdict(set), {}
    for entity_id, alert_id, kind, label in AlertEntity.objects.filter(
            alert_id__in=alert_ids, kind__in=TELLING_KINDS).values_list(
            "entity_id", "alert_id", "entity__kind", "entity__label"):
        counts[entity_id].add(alert_id)
        short = label if len(label) <= 80 else label[:77] + "…"
        labels[entity_id] = (TELLING_KINDS.index(kind) if kind in TELLING_KINDS else 99,
                             f"the {kind} {short}")
    shared = [e for e, alerts in counts.items() if len(alerts) >= 2]
    shared.sort(key=lambda e: (labels[e][0], -len(counts[e]), labels[e][1]))
    return [labels[e][1] for e in shared]
