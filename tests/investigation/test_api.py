"""GET /api/v1/incidents/{id}/graph and /alerts/{id}/graph."""

from inventory.roles import Scope
from tests.conftest import make_token
from tests.investigation.helpers import incident_with


def test_it_answers_the_first_map_of_an_incident_and_an_alert(p, client):
    incident, alerts = incident_with(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    data = client.get(f"/api/v1/incidents/{incident.pk}/graph", **token.header).json()
    assert set(data) == {"nodes", "edges"}
    assert set(data["nodes"][0]) == {"id", "kind", "label", "properties"}
    assert set(data["edges"][0]) == {"source", "target", "relation"}
    kinds = sorted(n["kind"] for n in data["nodes"])
    assert kinds == sorted(["incident", "alert", "alert", "host", "account", "ip", "process",
                            "file"])
    assert {"source": f"incident:{incident.pk}", "target": f"alert:{alerts[0].pk}",
            "relation": "contains"} in data["edges"]
    one = client.get(f"/api/v1/alerts/{alerts[0].pk}/graph", **token.header).json()
    assert one["nodes"][0]["id"] == f"alert:{alerts[0].pk}"
    assert any(e["relation"] == "runs_on" for e in one["edges"])


def test_it_needs_the_read_scope_and_hides_other_subscriptions(p, client):
    incident, alerts = incident_with(p.sub)
    ingest_only = make_token(p.sub, scopes=[Scope.INGEST])
    response = client.get(f"/api/v1/incidents/{incident.pk}/graph", **ingest_only.header)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    outsider = make_token(p.other, user=p.outsider, scopes=[Scope.READ])
    for url in (f"/api/v1/incidents/{incident.pk}/graph", f"/api/v1/alerts/{alerts[0].pk}/graph",
                "/api/v1/alerts/999999/graph"):
        response = client.get(url, **outsider.header)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/alerts/0/graph", **outsider.header).status_code == 400
    assert client.post(f"/api/v1/alerts/{alerts[0].pk}/graph", **outsider.header)\
        .status_code in (404, 405)
