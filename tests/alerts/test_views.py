import json

from django.utils import timezone

from alerts.models import Alert, RejectedItem
from tests.conftest import make_token
from tests.factories import make_alert, make_rejected, native_alert

HOSTILE = "<img src=x onerror=window.__x=1><script>window.__x=1</script>"


def test_the_list_ranks_by_severity_then_time(p, as_user):
    low = make_alert(p.sub, severity="low", display_name="Low one")
    high_old = make_alert(p.sub, severity="high", display_name="High old",
                          start_time="2026-01-01T00:00:00Z")
    high_new = make_alert(p.sub, severity="high", display_name="High new",
                          start_time="2026-06-01T00:00:00Z")
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/").content.decode()
    positions = [body.index(a.display_name) for a in (high_new, high_old, low)]
    assert positions == sorted(positions)


def test_the_list_filters_and_pages(p, as_user):
    for i in range(55):
        make_alert(p.sub, severity="medium", display_name=f"Medium {i}")
    make_alert(p.sub, severity="high", display_name="The high one")
    client = as_user(p.analyst)
    filtered = client.get(f"/s/{p.sub.pk}/alerts/?severity=high").content.decode()
    assert "The high one" in filtered and "Medium 3" not in filtered
    first = client.get(f"/s/{p.sub.pk}/alerts/").content.decode()
    assert "More alerts" in first
    cursor = first.split("cursor=")[1].split('"')[0]
    more = client.get(f"/s/{p.sub.pk}/alerts/?cursor={cursor}", HTTP_HX_REQUEST="true")
    assert "<html" not in more.content.decode() and "Medium" in more.content.decode()
    assert client.get(f"/s/{p.sub.pk}/alerts/?cursor=nonsense").status_code == 400


def test_the_list_filters_by_type_verdict_and_time(p, as_user):
    make_alert(p.sub, display_name="Old scan", alert_type="Scan",
               start_time="2026-11-01T10:00:00Z")
    make_alert(p.sub, display_name="New scan", alert_type="Scan",
               start_time="2026-11-20T10:00:00Z")
    odd = make_alert(p.sub, display_name="Odd one", alert_type='<b>"x"</b>',
                     start_time="2026-11-20T11:00:00Z")
    Alert.objects.filter(pk=odd.pk).update(status="dismissed", verdict="false_positive")
    client = as_user(p.analyst)
    page = client.get(f"/s/{p.sub.pk}/alerts/", {"type": "Scan", "since": "2026-11-10T00:00:00Z"})
    html = page.content.decode()
    assert "New scan" in html and "Old scan" not in html and "Odd one" not in html
    html = client.get(f"/s/{p.sub.pk}/alerts/", {"verdict": "false_positive"}).content.decode()
    assert "Odd one" in html and "New scan" not in html
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in client.get(
        f"/s/{p.sub.pk}/alerts/", {"type": '<b>"x"</b>'}).content.decode()
    html = client.get(f"/s/{p.sub.pk}/alerts/", {"until": "2026-11-10T00:00:00Z"}).content
    assert b"Old scan" in html and b"New scan" not in html
    assert client.get(f"/s/{p.sub.pk}/alerts/?verdict=guilty").status_code == 400
    assert client.get(f"/s/{p.sub.pk}/alerts/?since=yesterday").status_code == 400
    assert client.get(f"/s/{p.sub.pk}/alerts/?severity=urgent").status_code == 400


def test_the_list_never_shows_another_subscription(p, as_user):
    make_alert(p.other, display_name="Fabrikam secret")
    body = as_user(p.outsider).get(f"/s/{p.other.pk}/alerts/").content
    assert b"Fabrikam secret" in body
    assert as_user(p.analyst).get(f"/s/{p.other.pk}/alerts/").status_code == 404


def test_the_details_show_entities_relations_and_owner(p, as_user):
    alert = make_alert(p.sub, remediation_steps=["Reset the password."], entities=[
        {"$id": "1", "Type": "host", "HostName": "vm-test-01"},
        {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "CONTOSO"},
        {"$id": "3", "Type": "process", "ProcessId": "42", "CommandLine": "evil.exe -x",
         "CreationTimeUtc": "2026-11-27T10:00:00Z", "Host": {"$ref": "1"},
         "Account": {"$ref": "2"}, "ParentProcess": {"$ref": "9"}},
    ])
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    assert "evil.exe -x" in body and "runs_on" in body and "runs_as" in body
    assert "unresolved reference “9”" in body
    assert "Reset the password." in body and 'type="checkbox"' in body
    assert 'class="hit"' in body  # the kill chain marks InitialAccess


def test_the_details_escape_every_attacker_field(p, as_user):
    alert = make_alert(
        p.sub, display_name=HOSTILE, description=HOSTILE, alert_type=HOSTILE,
        remediation_steps=[HOSTILE], extended_properties={HOSTILE: HOSTILE},
        extended_links=[{"href": "javascript:window.__x=1", "label": HOSTILE},
                        {"href": "https://example.com/report", "label": "Report"}],
        entities=[{"$id": "1", "Type": "host", "HostName": HOSTILE},
                  {"$id": "2", "Type": HOSTILE, "Name": HOSTILE}])
    client = as_user(p.analyst)
    for url in (f"/s/{p.sub.pk}/alerts/", f"/s/{p.sub.pk}/alerts/{alert.pk}/",
                f"/s/{p.sub.pk}/alerts/{alert.pk}/raw/"):
        body = client.get(url).content.decode()
        assert "<img src=x" not in body and "<script>window" not in body, url
    body = client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    assert 'href="javascript:' not in body
    assert 'href="https://example.com/report"' in body
    assert "&lt;img src=x onerror=window.__x=1&gt;" in body


def test_the_raw_payload_is_exact_and_on_demand(p, as_user):
    raw = json.dumps(native_alert(display_name="Ünïcode  spaced", correlation_key="raw-marker"),
                     ensure_ascii=False)
    token = make_token(p.sub)
    client = as_user(p.analyst)
    response = client.post("/api/v1/alerts", raw.encode(), content_type="application/json",
                           **token.header)
    alert_id = response.json()["results"][0]["id"]
    detail = client.get(f"/s/{p.sub.pk}/alerts/{alert_id}/").content.decode()
    assert "raw-marker" not in detail  # the payload is not loaded with the page
    fragment = client.get(f"/s/{p.sub.pk}/alerts/{alert_id}/raw/", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<pre class="raw"')
    assert "Ünïcode  spaced" in fragment.content.decode()


def test_alert_pages_are_404_for_outsiders(p, as_user):
    alert = make_alert(p.sub)
    client = as_user(p.outsider)
    assert client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").status_code == 404
    # Even through a subscription the outsider belongs to.
    assert client.get(f"/s/{p.other.pk}/alerts/{alert.pk}/").status_code == 404


def test_rejected_items_are_for_admins(p, as_user):
    token = make_token(p.sub)
    item = make_rejected(p.sub, token.token)
    admin = as_user(p.admin)
    listing = admin.get(f"/s/{p.sub.pk}/settings/rejected/?token={token.token.pk}")
    assert listing.status_code == 200 and b"unknown_severity" in listing.content
    from_cli = make_rejected(p.sub)
    cli = admin.get(f"/s/{p.sub.pk}/settings/rejected/?token=none").content.decode()
    assert f"/settings/rejected/{from_cli.pk}/" in cli and f"/settings/rejected/{item.pk}/" \
        not in cli
    assert admin.get(f"/s/{p.sub.pk}/settings/rejected/?token=999999").status_code == 400
    detail = admin.get(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/")
    assert b"urgent" in detail.content
    analyst = as_user(p.analyst)
    assert analyst.get(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/").status_code == 403
    assert analyst.get(f"/s/{p.sub.pk}/settings/rejected/").status_code == 403


def test_a_replay_after_a_fix_creates_the_alert(p, as_user):
    token = make_token(p.sub)
    # As if an older parser had refused a valid item.
    item = RejectedItem.objects.create(
        subscription=p.sub, token=token.token, index=0, code="not_an_alert", message="old",
        body=json.dumps(native_alert(id="replayed-1")).encode(), received_at=timezone.now())
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/replay/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.replay_result["status"] == "created"
    assert Alert.objects.filter(subscription=p.sub, key="replayed-1").exists()
    as_user(p.admin).post(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/replay/")
    assert Alert.objects.get(key="replayed-1").occurrence_count == 1  # not replayed twice


def test_a_replay_that_still_fails_says_why(p, as_user):
    item = make_rejected(p.sub)
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/replay/",
                                     follow=True)
    assert b"Still rejected" in response.content
    assert RejectedItem.objects.filter(subscription=p.sub).count() == 1


def test_replay_needs_post(p, as_user):
    item = make_rejected(p.sub)
    assert as_user(p.admin).get(f"/s/{p.sub.pk}/settings/rejected/{item.pk}/replay/")\
        .status_code == 405


def test_an_alert_shows_the_provider_incident_that_lists_it(p, as_user):
    from tests.alerts.helpers import ingest

    alert = make_alert(p.sub, id="member-1")
    ingest(p.sub, {"SystemAlertId": "inc-1", "AlertDisplayName": "Security incident detected",
                   "Severity": "High", "IsIncident": True, "ProductName": "Defender",
                   "Entities": [{"$id": "1", "Type": "alerts",
                                 "SystemAlertIds": ["member-1", "member-2"]}]})
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    assert "Part of <strong>Security incident detected</strong>" in body
    assert "1 other alert" in body


def test_the_page_shows_the_alerts_activity_escaped(p, as_user):
    alert = make_alert(p.sub)
    other = make_alert(p.sub)
    client = as_user(p.analyst)
    base = f"/s/{p.sub.pk}/alerts/{alert.pk}/"
    client.post(base + "comment/", {"comment": HOSTILE})
    client.post(base + "dismiss/", {"verdict": "false_positive", "comment": "scanner noise"})
    client.post(f"/s/{p.sub.pk}/alerts/{other.pk}/comment/", {"comment": "about the other"})
    body = client.get(base).content.decode()
    activity = body[body.index('id="activity"'):]
    assert "commented on the alert" in activity and "as false positive" in activity
    assert activity.index("commented on") < activity.index("as false positive")  # oldest first
    assert "analyst" in activity and "scanner noise" in activity
    assert "dismissed the alert «" in activity
    assert "&lt;img src=x onerror=window.__x=1&gt;" in activity
    assert "<img src=x" not in body and "<script>window" not in body
    assert "about the other" not in body


def test_the_page_shows_the_verdict_beside_the_status(p, as_user):
    alert = make_alert(p.sub)
    client = as_user(p.analyst)
    assert "Active ·" not in client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    client.post(f"/s/{p.sub.pk}/alerts/{alert.pk}/dismiss/", {"verdict": "not_applicable"})
    body = client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/").content.decode()
    assert '<span class="status status-dismissed">Dismissed · Not applicable</span>' in body


def test_the_page_links_to_the_incident_of_the_alert(p, as_user):
    from incidents.correlation import correlate
    from incidents.models import Incident

    first = make_alert(p.sub, compromised_entity="vm-inc", start_time="2026-11-20T10:00:00Z")
    make_alert(p.sub, compromised_entity="vm-inc", start_time="2026-11-20T11:00:00Z")
    alone = make_alert(p.sub, compromised_entity="vm-alone")
    client = as_user(p.analyst)
    assert "Part of incident" not in client.get(f"/s/{p.sub.pk}/alerts/{first.pk}/")\
        .content.decode()  # not yet correlated
    correlate()
    incident = Incident.objects.get(standalone=False)
    body = client.get(f"/s/{p.sub.pk}/alerts/{first.pk}/").content.decode()
    assert (f'Part of incident: <a href="/s/{p.sub.pk}/incidents/{incident.pk}/">'
            "Security incident detected on vm-inc</a>") in body
    solo = Incident.objects.get(members__alert=alone)
    body = client.get(f"/s/{p.sub.pk}/alerts/{alone.pk}/").content.decode()
    assert "Part of incident" not in body
    assert f'standalone alert: <a href="/s/{p.sub.pk}/incidents/{solo.pk}/">' in body
