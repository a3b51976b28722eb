"""POST /api/v1/incidents/{id}/assign|escalate|acknowledge: owning an incident by API."""

import json

from django.core import mail

from incidents.models import Incident
from inventory.models import Activity, Resource
from inventory.roles import Scope
from tests.conftest import make_token
from tests.factories import make_incident

ACT = [Scope.READ, Scope.ACT]


def post(client, incident, action, token, body=None):
    return client.post(f"/api/v1/incidents/{incident.pk}/{action}",
                       json.dumps(body) if body is not None else "",
                       content_type="application/json", **token.header)


def error(response, status, field):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["field"] == field, body
    return body


def test_it_lets_an_analyst_take_an_incident(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    response = post(client, incident, "assign", token, {"to": "me", "reason": "mine"})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["id"] == incident.pk and answer["assigned_to"] == "analyst"
    assert answer["changed"] is True and answer["status"] == "active"
    incident.refresh_from_db()
    assert incident.assigned_to == p.analyst and incident.acknowledged_at is not None
    row = Activity.objects.get(verb="incident.take")
    assert row.actor_kind == "token" and row.reason == "mine"


def test_it_lets_an_analyst_take_by_naming_themself(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    assert post(client, incident, "assign", token, {"to": "analyst"}).json()["assigned_to"] \
        == "analyst"


def test_it_is_idempotent(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    post(client, incident, "assign", token, {"to": "me"})
    again = post(client, incident, "assign", token, {"to": "me"})
    assert again.status_code == 200 and again.json()["changed"] is False
    assert Activity.objects.filter(verb="incident.take").count() == 1


def test_it_refuses_an_analyst_assigning_to_someone_else(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    response = post(client, incident, "assign", token, {"to": "lead"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    incident.refresh_from_db()
    assert incident.assigned_to is None


def test_it_lets_a_shift_lead_assign_to_an_analyst(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = post(client, incident, "assign", token, {"to": "analyst", "reason": "yours"})
    assert response.status_code == 200 and response.json()["assigned_to"] == "analyst"
    assert Activity.objects.get(verb="incident.assign").reason == "yours"


def test_it_refuses_an_assignee_who_cannot_triage(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    for to in ("admin", "outsider", "nobody", "", "   "):
        error(post(client, incident, "assign", token, {"to": to}), 400, "to")
    error(post(client, incident, "assign", token, {}), 400, "to")
    error(post(client, incident, "assign", token), 400, "to")
    incident.refresh_from_db()
    assert incident.assigned_to is None


def test_it_refuses_a_token_without_act_or_a_role_without_the_right(p, client):
    incident = make_incident(p.sub)
    read_only = make_token(p.sub, user=p.lead, scopes=[Scope.READ])
    admin = make_token(p.sub, user=p.admin, scopes=ACT)
    for token in (read_only, admin):
        assert post(client, incident, "assign", token, {"to": "me"}).status_code == 403
        assert post(client, incident, "escalate", token,
                    {"to": "leads", "note": "n"}).status_code == 403
        assert post(client, incident, "acknowledge", token).status_code == 403


def test_it_lets_an_act_only_token_act(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.ACT])
    assert post(client, incident, "assign", token, {"to": "me"}).status_code == 200
    assert post(client, incident, "comment", token, {"comment": "hi"}).status_code == 200
    # An alert too: acting needs no read scope, and another subscription's is still 404.
    alert = incident.members.get().alert
    theirs = make_incident(p.other).members.get().alert
    for target, expected in ((alert, 200), (theirs, 404)):
        response = client.post(f"/api/v1/alerts/{target.pk}/dismiss",
                               json.dumps({"verdict": "false_positive"}),
                               content_type="application/json", **token.header)
        assert response.status_code == expected, response.content
    unable = make_token(p.sub, user=p.analyst, scopes=[Scope.INGEST])
    response = client.post(f"/api/v1/alerts/{alert.pk}/comment", json.dumps({"comment": "x"}),
                           content_type="application/json", **unable.header)
    assert response.status_code == 403


def test_it_answers_404_for_another_subscriptions_incident(p, client):
    theirs = make_incident(p.other)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    for action, body in (("assign", {"to": "me"}), ("escalate", {"to": "leads", "note": "x"}),
                         ("acknowledge", {})):
        response = post(client, theirs, action, token, body)
        assert response.status_code == 404, action
        assert response.json()["error"]["code"] == "not_found"
    missing = client.post("/api/v1/incidents/999999/assign", "{}",
                          content_type="application/json", **token.header)
    assert missing.status_code == 404


def test_it_refuses_the_wrong_method(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = client.get(f"/api/v1/incidents/{incident.pk}/assign", **token.header)
    assert response.status_code == 405


def test_it_escalates_to_the_shift_leads_and_a_lead_acknowledges(
        p, client, django_capture_on_commit_callbacks):
    p.lead.email = "lead@contoso.example"
    p.lead.save()
    incident = make_incident(p.sub)
    analyst = make_token(p.sub, user=p.analyst, scopes=ACT)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, incident, "escalate", analyst,
                        {"to": "leads", "note": "looks like ransomware"})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["escalated"] is True and answer["escalated_to"] == "leads"
    assert answer["escalation_acknowledged"] is False
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lead@contoso.example"]
    assert "looks like ransomware" in mail.outbox[0].body

    assert post(client, incident, "acknowledge", analyst).status_code == 403
    lead = make_token(p.sub, user=p.lead, scopes=ACT)
    response = post(client, incident, "acknowledge", lead, {"reason": "on it"})
    assert response.status_code == 200
    assert response.json()["escalation_acknowledged"] is True
    assert response.json()["changed"] is True
    assert Activity.objects.get(verb="incident.acknowledge").reason == "on it"
    again = post(client, incident, "acknowledge", lead)
    assert again.status_code == 200 and again.json()["changed"] is False


def test_it_needs_an_escalation_note_and_a_known_target(p, client):
    p.lead.email = "lead@contoso.example"
    p.lead.save()
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    error(post(client, incident, "escalate", token, {"to": "leads"}), 400, "note")
    error(post(client, incident, "escalate", token, {"to": "leads", "note": "  "}), 400, "note")
    error(post(client, incident, "escalate", token, {"to": "boss", "note": "x"}), 400, "to")
    error(post(client, incident, "escalate", token, {"note": "x"}), 400, "to")
    error(post(client, incident, "escalate", token, {"to": 3, "note": "x"}), 400, "to")
    assert not Incident.objects.get(pk=incident.pk).escalated and not mail.outbox


def test_it_escalates_to_the_owner_only_when_there_is_one(
        p, client, django_capture_on_commit_callbacks):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    error(post(client, incident, "escalate", token, {"to": "owner", "note": "yours"}), 400,
          "to")
    Resource.objects.filter(pk=incident.resource_id).update(owner_email="dana@contoso.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, incident, "escalate", token, {"to": "owner", "note": "yours"})
    assert response.status_code == 200 and response.json()["escalated_to"] == "owner"
    assert mail.outbox[-1].to == ["dana@contoso.example"]


def test_it_refuses_to_acknowledge_what_was_not_escalated(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = post(client, incident, "acknowledge", token)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not Activity.objects.filter(verb="incident.acknowledge").exists()


def test_it_refuses_a_deactivated_assignee(p, client):
    incident = make_incident(p.sub)
    p.analyst.is_active = False
    p.analyst.save()
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    body = error(post(client, incident, "assign", token, {"to": "analyst"}), 400, "to")
    assert "not an" in body["message"]
    incident.refresh_from_db()
    assert incident.assigned_to is None
