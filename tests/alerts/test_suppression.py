import copy
from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, SuppressionRule
from inventory.models import Activity
from tests.alerts.helpers import ingest
from tests.factories import native_alert

SCAN = {"$id": "9", "Type": "ip", "Address": "198.51.100.7"}


def batch(prefix):
    base = [
        native_alert(alert_type="Scan", compromised_entity="vm-s", entities=[SCAN]),
        native_alert(alert_type="Scan", compromised_entity="vm-s", entities=[]),
        native_alert(alert_type="Scan", compromised_entity="vm-s", entities=[SCAN]),
        native_alert(alert_type="Scan", compromised_entity="vm-other", entities=[SCAN]),
        native_alert(alert_type="Other", compromised_entity="vm-s", entities=[SCAN]),
    ]
    for i, item in enumerate(base):
        item["id"] = f"{prefix}-{i}"
    return base


def test_the_preview_equals_what_the_rule_dismisses_on_the_same_alerts_again(p, as_user):
    first = batch("first")
    ingest(p.sub, first)
    alert = Alert.objects.get(key="first-0")
    client = as_user(p.lead)
    for scope, expected in (("resource", 3), (f"entity:{alert.mentions.get().entity_id}", 3)):
        preview = client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/preview/?scope={scope}")
        assert f"Matches {expected} past alerts".encode() in preview.content, scope
    response = client.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                           {"scope": "resource", "days": "30", "reason": "weekly scan"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.verdict) == ("dismissed", "benign_positive")
    rule = SuppressionRule.objects.get()
    again = copy.deepcopy(first)
    for item in again:
        item["id"] = item["id"].replace("first", "again")
    report = ingest(p.sub, again)
    statuses = {Alert.objects.get(pk=r.id).key: Alert.objects.get(pk=r.id).status
                for r in report.results}
    assert statuses == {"again-0": "dismissed", "again-1": "dismissed", "again-2": "dismissed",
                        "again-3": "active", "again-4": "active"}
    rule.refresh_from_db()
    assert rule.matched == 3  # as the preview said
    assert Activity.objects.filter(verb="suppression.apply", target_id=str(rule.pk)).exists()


def test_an_expired_or_disabled_rule_suppresses_nothing(p, as_user):
    ingest(p.sub, batch("one"))
    alert = Alert.objects.get(key="one-0")
    as_user(p.lead).post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                         {"scope": "resource", "days": "1", "reason": "scan"})
    rule = SuppressionRule.objects.get()
    SuppressionRule.objects.filter(pk=rule.pk).update(expires_at=timezone.now()
                                                      - timedelta(minutes=1))
    ingest(p.sub, batch("two"))
    assert Alert.objects.get(key="two-0").status == "active"
    SuppressionRule.objects.filter(pk=rule.pk).update(expires_at=timezone.now()
                                                      + timedelta(days=1))
    as_user(p.lead).post(f"/s/{p.sub.pk}/suppression/{rule.pk}/disable/")
    ingest(p.sub, batch("three"))
    assert Alert.objects.get(key="three-0").status == "active"


def test_suppression_is_for_shift_leads(p, as_user):
    ingest(p.sub, batch("x"))
    alert = Alert.objects.get(key="x-0")
    analyst = as_user(p.analyst)
    assert analyst.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                        {"scope": "resource", "days": "30", "reason": "r"}).status_code == 403
    assert analyst.get(f"/s/{p.sub.pk}/suppression/").status_code == 403
    lead = as_user(p.lead)
    bad = lead.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                    {"scope": "entity:999999", "days": "30", "reason": "r"}, follow=True)
    assert b"Choose one of this alert" in bad.content
    assert lead.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                     {"scope": "resource", "days": "9999", "reason": "r"}, follow=True)\
        .status_code == 200
    assert not SuppressionRule.objects.exists()
    page = lead.get(f"/s/{p.sub.pk}/suppression/")
    assert page.status_code == 200 and b"No rules yet" in page.content
