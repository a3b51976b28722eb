import json

from alerts.models import Alert
from incidents.correlation import correlate
from incidents.models import Incident
from inventory.models import Activity
from inventory.roles import Scope
from tests.conftest import make_token
from tests.factories import make_alert


def incident(p):
    make_alert(p.sub, id="api-a", compromised_entity="vm-api", start_time="2026-11-20T10:00:00Z")
    make_alert(p.sub, id="api-b", compromised_entity="vm-api", start_time="2026-11-20T12:00:00Z",
               severity="low")
    correlate()
    return Incident.objects.get(standalone=False)


def post(client, url, token, **body):
    return client.post(url, json.dumps(body), content_type="application/json", **token.header)


def test_incidents_are_listed_and_shown_with_reasons(p, client):
    item = incident(p)
    token = make_token(p.sub)
    listing = client.get("/api/v1/incidents", **token.header).json()
    assert [i["id"] for i in listing["items"]] == [item.pk]
    assert listing["items"][0]["severity"] == "high" and listing["next_cursor"] is None
    detail = client.get(f"/api/v1/incidents/{item.pk}", **token.header).json()
    assert [a["key"] for a in detail["alerts"]] == ["api-a", "api-b"]
    assert detail["reasons"][0]["code"] == "same_resource"
    assert client.get("/api/v1/incidents?status=closed", **token.header).status_code == 400


def test_an_act_token_dismisses_an_incident_and_its_alerts(p, client):
    item = incident(p)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    response = post(client, f"/api/v1/incidents/{item.pk}/dismiss", token,
                    verdict="false_positive", comment="scanner")
    assert response.status_code == 200
    assert response.json() == {"id": item.pk, "status": "dismissed",
                               "verdict": "false_positive", "changed": True}
    assert set(Alert.objects.values_list("status", flat=True)) == {"dismissed"}
    row = Activity.objects.get(verb="incident.dismiss")
    assert row.actor_kind == "token" and row.reason == "scanner"
    again = post(client, f"/api/v1/incidents/{item.pk}/dismiss", token, verdict="false_positive")
    assert again.json()["changed"] is False


def test_rights_are_scopes_and_role(p, client):
    item = incident(p)
    read_only = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    assert post(client, f"/api/v1/incidents/{item.pk}/resolve", read_only).status_code == 403
    admin = make_token(p.sub, user=p.admin, scopes=[Scope.READ, Scope.ACT])
    assert post(client, f"/api/v1/incidents/{item.pk}/resolve", admin).status_code == 403
    analyst = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    assert post(client, f"/api/v1/incidents/{item.pk}/resolve", analyst,
                comment="contained").status_code == 200
    assert post(client, f"/api/v1/incidents/{item.pk}/activate", analyst).status_code == 403
    lead = make_token(p.sub, user=p.lead, scopes=[Scope.READ, Scope.ACT])
    assert post(client, f"/api/v1/incidents/{item.pk}/activate", lead).status_code == 200


def test_alert_actions_and_bad_input(p, client):
    alert = make_alert(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    assert post(client, f"/api/v1/alerts/{alert.pk}/dismiss", token,
                verdict="perhaps").status_code == 400
    assert post(client, f"/api/v1/alerts/{alert.pk}/comment", token).status_code == 400
    assert post(client, f"/api/v1/alerts/{alert.pk}/explode", token).status_code in (400, 404)
    ok = post(client, f"/api/v1/alerts/{alert.pk}/dismiss", token, verdict="Benign_Positive")
    assert ok.status_code == 200 and ok.json()["verdict"] == "benign_positive"
    note = post(client, f"/api/v1/alerts/{alert.pk}/comment", token, comment="seen it")
    assert note.status_code == 200
    assert Activity.objects.filter(verb="alert.comment", reason="seen it").exists()


def test_an_incident_shows_its_alerts_verdicts_in_as_many_queries_for_many(p, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item = incident(p)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    alert = Alert.objects.get(key="api-b")
    post(client, f"/api/v1/alerts/{alert.pk}/dismiss", token, verdict="not_applicable")

    def detail():
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/api/v1/incidents/{item.pk}", **token.header).json()
        return body, len(ctx.captured_queries)

    body, few = detail()
    assert [(a["key"], a["status"], a["verdict"], a["suppressed_by"]) for a in body["alerts"]] \
        == [("api-a", "active", "", None), ("api-b", "dismissed", "not_applicable", None)]
    for n in range(8):
        make_alert(p.sub, id=f"api-more-{n}", compromised_entity="vm-api",
                   start_time=f"2026-11-20T{13 + n}:00:00Z")
    correlate()
    body, many = detail()
    assert len(body["alerts"]) == 10 and many == few
    single = client.get(f"/api/v1/alerts/{alert.pk}", **token.header).json()
    assert single["verdict"] == "not_applicable"
