"""Alert entities against indicators: exact values, CIDR containment, hashes, URLs,
accounts; after ingest and as a retro-hunt after an import."""

from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, Entity
from detections.indicators import save_indicators
from detections.matching import match_alerts, matches_of, retro_hunt
from detections.models import EntityMatch
from inventory.activity import Actor
from tests.factories import make_alert

SHA = "8f1a5c0b3e2d4f6a9b7c1d0e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a"


def indicators(p, *items):
    return save_indicators(p.sub, [dict(zip(("type", "value"), item, strict=True))
                                   for item in items],
                           actor=Actor.of_user(p.lead), role="shift_lead")


def rich_alert(p, **fields):
    return make_alert(p.sub, entities=[
        {"$id": "1", "Type": "host", "HostName": "vm-web-01", "NTDomain": "CONTOSO"},
        {"$id": "2", "Type": "account", "Name": "svc-backup", "NTDomain": "CONTOSO"},
        {"$id": "3", "Type": "ip", "Address": "198.51.100.23"},
        {"$id": "4", "Type": "url", "Url": "http://198.51.100.23/upload/lsass.zip"},
        {"$id": "5", "Type": "filehash", "Algorithm": "SHA256", "Value": SHA.upper()},
        {"$id": "6", "Type": "dns", "DomainName": "Evil.Example"},
    ], **fields)


def marked(p):
    return sorted((m.entity.kind, m.indicator.type, m.indicator.value)
                  for m in EntityMatch.objects.filter(subscription=p.sub)
                  .select_related("entity", "indicator"))


def test_each_kind_of_indicator_marks_its_entity(p):
    indicators(p, ("ip", "198.51.100.0/24"), ("url", "http://198.51.100.23/upload/lsass.zip"),
               ("sha256", SHA), ("domain", "evil.example"), ("account", "svc-backup"),
               ("ip", "203.0.113.1"))
    alert = rich_alert(p)

    assert match_alerts(p.sub.pk, [alert.pk]) == 5
    assert marked(p) == [("account", "account", "svc-backup"),
                         ("dns", "domain", "evil.example"),
                         ("filehash", "sha256", SHA),
                         ("ip", "ip", "198.51.100.0/24"),
                         ("url", "url", "http://198.51.100.23/upload/lsass.zip")]
    assert match_alerts(p.sub.pk, [alert.pk]) == 0  # once per indicator and entity
    ip = Entity.objects.get(subscription=p.sub, kind="ip")
    assert [i.value for i in matches_of(ip.pk)] == ["198.51.100.0/24"]
    assert EntityMatch.objects.filter(last_alert=alert).count() == 5


def test_an_account_indicator_with_its_domain_matches_too(p):
    indicators(p, ("account", "CONTOSO\\svc-backup"))
    alert = rich_alert(p)
    match_alerts(p.sub.pk, [alert.pk])
    assert marked(p) == [("account", "account", "contoso\\svc-backup")]


def test_expired_indicators_and_other_subscriptions_do_not_match(p):
    save_indicators(p.sub, [{"type": "ip", "value": "198.51.100.23",
                             "valid_until": timezone.now() - timedelta(days=1),
                             "valid_from": timezone.now() - timedelta(days=30)}],
                    actor=Actor.of_user(p.lead), role="shift_lead")
    save_indicators(p.other, [{"type": "ip", "value": "198.51.100.23"}],
                    actor=Actor.of_user(p.outsider), role="admin")
    alert = rich_alert(p)
    assert match_alerts(p.sub.pk, [alert.pk]) == 0


def test_an_ingest_marks_at_once_and_an_import_hunts_back_14_days(
        p, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        indicators(p, ("sha256", SHA))
    with django_capture_on_commit_callbacks(execute=True):
        rich_alert(p)
    assert marked(p) == [("filehash", "sha256", SHA)]

    old = rich_alert(p, id="old-one")
    Alert.objects.filter(pk=old.pk).update(ingested_at=timezone.now() - timedelta(days=20))
    recent = rich_alert(p, id="recent-one")
    with django_capture_on_commit_callbacks(execute=True):
        indicators(p, ("domain", "evil.example"))  # the import starts the retro-hunt
    match = EntityMatch.objects.get(indicator__value="evil.example")
    assert match.last_alert_id == recent.pk
    assert retro_hunt(p.sub.pk) == 0


def test_the_queue_badges_the_incident_and_the_pane_shows_the_indicator(p, as_user):
    from django.urls import reverse

    from incidents.correlation import correlate
    from incidents.models import IncidentAlert
    from investigation.actions import start_investigation

    indicators(p, ("ip", "198.51.100.0/24"))
    alert = rich_alert(p, description="<b>x</b>")
    match_alerts(p.sub.pk, [alert.pk])
    correlate()
    client = as_user(p.analyst)
    queue = client.get(reverse("incidents:queue", kwargs={"sub": p.sub.pk})).content.decode()
    assert 'class="tag tag-intel" title="Named by threat intelligence: 198.51.100.0/24"' in queue
    assert IncidentAlert.objects.filter(alert=alert).exists()

    ip = Entity.objects.get(subscription=p.sub, kind="ip")
    inv, _ = start_investigation(actor=Actor.of_user(p.analyst), alert=alert)
    tab = client.get(reverse("investigation:tab", kwargs={
        "sub": p.sub.pk, "investigation_id": inv.pk, "tab": "intel"}),
        {"node": f"entity:{ip.pk}"})
    assert tab.status_code == 200 and "198.51.100.0/24" in tab.content.decode()
