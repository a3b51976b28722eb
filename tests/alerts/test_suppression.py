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
    assert bad.status_code == 400 and b"Scope the rule to this alert" in bad.content
    assert lead.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/",
                     {"scope": "resource", "days": "9999", "reason": "r"}).status_code == 400
    assert not SuppressionRule.objects.exists()
    page = lead.get(f"/s/{p.sub.pk}/suppression/")
    assert page.status_code == 200 and b"No rules yet" in page.content


def suppress_url(p, alert, preview=False):
    return f"/s/{p.sub.pk}/alerts/{alert.pk}/suppress/{'preview/' if preview else ''}"


def test_it_refuses_a_scope_it_did_not_offer_with_a_400(p, as_user):
    ingest(p.sub, batch("a"))
    ingest(p.sub, [native_alert(id="elsewhere", alert_type="Scan", entities=[
        {"$id": "1", "Type": "ip", "Address": "192.0.2.99"}])])
    ingest(p.sub, [native_alert(id="odd", alert_type="Scan", compromised_entity="",
                                entities=[{"$id": "1", "Type": "gadget", "Name": "g1"}])])
    alert = Alert.objects.get(key="a-0")
    other_entity = Alert.objects.get(key="elsewhere").mentions.get().entity_id
    odd = Alert.objects.get(key="odd")
    assert odd.resource_id is None and not odd.mentions.get().entity.known
    lead = as_user(p.lead)
    for target, scope in (
            (alert, "entity:99999999999999999999"), (alert, "entity:9223372036854775808"),
            (alert, "entity:²"), (alert, "entity:-1"), (alert, "entity:0"), (alert, "entity:"),
            (alert, f"entity:{other_entity}"), (alert, f"entity: {other_entity}"),
            (alert, "bogus"), (alert, "resource "), (alert, "x" * 5000),
            (odd, "resource"), (odd, f"entity:{odd.mentions.get().entity_id}")):
        preview = lead.get(suppress_url(p, target, preview=True), {"scope": scope})
        assert preview.status_code == 400, scope
        posted = lead.post(suppress_url(p, target),
                           {"scope": scope, "days": "3", "reason": "x"})
        assert posted.status_code == 400, scope
        assert "Scope the rule to this alert" in posted.content.decode(), scope
    assert not SuppressionRule.objects.exists()
    assert Alert.objects.get(key="a-0").status == "active"


def test_it_refuses_a_bad_duration_or_no_reason_with_a_400(p, as_user):
    ingest(p.sub, batch("d"))
    alert = Alert.objects.get(key="d-0")
    lead = as_user(p.lead)
    for days in ("abc", "", "0", "-3", "366", "1e3", "99999999999999999999", "9" * 5000):
        response = lead.post(suppress_url(p, alert),
                             {"scope": "resource", "days": days, "reason": "x"})
        assert response.status_code == 400, days
        assert "A rule lasts 1 to 365 days." in response.content.decode(), days
    response = lead.post(suppress_url(p, alert), {"scope": "resource", "days": "3",
                                                  "reason": "   "})
    assert response.status_code == 400 and b"Say why these alerts" in response.content
    fragment = lead.post(suppress_url(p, alert), {"scope": "resource", "days": "0",
                                                  "reason": "x"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 400 and b"<html" not in fragment.content
    assert not SuppressionRule.objects.exists()
    assert Alert.objects.get(key="d-0").status == "active"
    ok = lead.post(suppress_url(p, alert), {"scope": "resource", "days": "365", "reason": "x"})
    assert ok.status_code == 302 and SuppressionRule.objects.count() == 1


def test_the_page_offers_only_the_scopes_it_accepts(p, as_user):
    ingest(p.sub, [native_alert(id="two", alert_type="Scan", entities=[
        SCAN, dict(SCAN, **{"$id": "10"}), {"$id": "11", "Type": "gadget", "Name": "g1"}])])
    alert = Alert.objects.get(key="two")
    body = as_user(p.lead).get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    ip = alert.mentions.filter(kind="ip").first().entity_id
    assert body.count(f'value="entity:{ip}"') == 1  # named twice, offered once
    assert body.count('<option value="entity:') == 1  # not the unknown type
    assert '<option value="resource"' in body


def test_an_alert_it_dismisses_names_the_rule(p, as_user):
    ingest(p.sub, batch("first"))
    alert = Alert.objects.get(key="first-0")
    lead = as_user(p.lead)
    lead.post(suppress_url(p, alert), {"scope": "resource", "days": "30",
                                       "reason": "weekly scan <img src=x onerror=alert(1)>"})
    rule = SuppressionRule.objects.get()
    ingest(p.sub, batch("again"))
    dismissed = Alert.objects.filter(key__in=("again-0", "again-1", "again-2"))
    assert {(a.status, a.verdict, a.suppressed_by_id) for a in dismissed} == \
        {("dismissed", "benign_positive", rule.pk)}
    assert Alert.objects.get(key="again-3").suppressed_by_id is None
    assert Alert.objects.get(key="first-0").suppressed_by_id is None  # dismissed by the lead
    applied = Activity.objects.get(verb="suppression.apply", target_id=str(rule.pk))
    assert applied.after["alerts"] == sorted(a.pk for a in dismissed)
    for a in dismissed:
        entry = Activity.objects.get(verb="alert.suppress", target_type="alert",
                                     target_id=str(a.pk))
        assert entry.after == {"status": "dismissed", "verdict": "benign_positive",
                               "rule": rule.pk}
        assert f"suppression rule {rule.pk}" in entry.reason
        # The rule did it, not whoever sent the alert.
        assert (entry.actor_kind, entry.actor_label) == ("system", f"suppression rule {rule.pk}")
    page = lead.get(f"/s/{p.sub.pk}/alerts/{dismissed[0].pk}/").content.decode()
    assert "Dismissed automatically by suppression rule «" in page
    assert f'href="/s/{p.sub.pk}/suppression/#rule-{rule.pk}"' in page
    assert "verdict Benign positive" in page
    assert "weekly scan &lt;img src=x" in page and "<img src=x" not in page
    assert 'class="verb-alertsuppress"' in page  # in the alert's activity
    rules = lead.get(f"/s/{p.sub.pk}/suppression/").content.decode()
    assert f'id="rule-{rule.pk}"' in rules
    # The analyst sees the rule named, without a link to a page they may not open.
    seen = as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/{dismissed[0].pk}/").content.decode()
    assert "Dismissed automatically by suppression rule «weekly scan" in seen
    assert "/suppression/#rule-" not in seen


def test_an_incident_tells_its_alerts_were_suppressed(p, as_user):
    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    ingest(p.sub, batch("first"))
    alert = Alert.objects.get(key="first-0")
    as_user(p.lead).post(suppress_url(p, alert), {"scope": "resource", "days": "30",
                                                  "reason": "weekly scan"})
    ingest(p.sub, batch("again"))
    correlate()
    suppressed = Alert.objects.get(key="again-0")
    incident = IncidentAlert.objects.get(alert=suppressed).incident_id
    page = as_user(p.analyst).get(f"/s/{p.sub.pk}/incidents/{incident}/").content.decode()
    assert 'class="verb-alertsuppress"' in page and \
        "dismissed automatically by suppression rule" in page


def test_a_later_dismissal_by_a_person_is_not_the_rules(p, as_user):
    ingest(p.sub, batch("first"))
    lead = as_user(p.lead)
    lead.post(suppress_url(p, Alert.objects.get(key="first-0")),
              {"scope": "resource", "days": "30", "reason": "weekly scan"})
    ingest(p.sub, batch("again"))
    alert = Alert.objects.get(key="again-0")
    base = f"/s/{p.sub.pk}/alerts/{alert.pk}/"
    lead.post(base + "activate/", {"comment": "this one was real"})
    lead.post(base + "dismiss/", {"verdict": "false_positive", "comment": "after all"})
    page = lead.get(base).content.decode()
    assert "Dismissed automatically" not in page
    assert "Dismissed · False positive" in page
    assert "Suppressed on arrival" in page  # still a fact of its history


def test_applying_rules_costs_statements_per_rule_not_per_alert(p, django_assert_max_num_queries):
    from django.db import transaction

    from alerts.suppression import apply_rules
    from tests.conftest import SYSTEM

    items = [native_alert(id=f"many-{i}", alert_type="Scan", compromised_entity="vm-s",
                          entities=[SCAN]) for i in range(500)]
    report = ingest(p.sub, items)
    ids = [r.id for r in report.results]
    alert = Alert.objects.get(key="many-0")
    for scope in ("resource", f"entity:{alert.mentions.get().entity_id}"):
        SuppressionRule.objects.create(
            subscription=p.sub, alert_type="Scan",
            resource_id=alert.resource_id if scope == "resource" else None,
            entity_id=None if scope == "resource" else int(scope[7:]), reason=scope,
            expires_at=timezone.now() + timedelta(days=1))
    # Rules, then per rule a read, an UPDATE and a counter; the activity in bulk (some
    # 80 rows a statement on SQLite, 500 on PostgreSQL): not a statement per alert.
    with transaction.atomic(), django_assert_max_num_queries(15):
        assert apply_rules(p.sub, ids, SYSTEM) == 500
    assert Activity.objects.filter(verb="alert.suppress").count() == 500
    assert Alert.objects.filter(pk__in=ids, suppressed_by__isnull=False).count() == 500
