"""A comment, reason or note over 4,000 characters is refused, never cut."""

import json

import pytest
from django.core import mail

from incidents.models import HandoverNote, Incident
from inventory.models import Activity
from inventory.roles import Scope
from tests.conftest import make_token
from tests.factories import make_alert, make_incident

LONG = "x" * 4001


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("path, data, words", [
    ("queue/bulk/", {"action": "resolve", "comment": LONG}, "The comment is 4,001"),
    ("queue/bulk/", {"action": "dismiss", "verdict": "false_positive", "comment": LONG},
     "The comment is 4,001"),
    ("queue/handover/", {"text": LONG}, "The handover note is 4,001"),
    ("incidents/{pk}/escalate/", {"to": "leads", "note": LONG}, "The note is 4,001"),
    ("incidents/{pk}/resolve/", {"comment": LONG}, "at most 4000 characters"),
    ("incidents/{pk}/comment/", {"comment": LONG}, "at most 4000 characters"),
])
def test_the_pages_refuse_a_long_text_and_say_so(p, as_user, path, data, words):
    p.lead.email = "lead@contoso.example"
    p.lead.save()
    incident = make_incident(p.sub)
    response = as_user(p.analyst).post(f"/s/{p.sub.pk}/{path.format(pk=incident.pk)}",
                                       {**data, "ids": [incident.pk]}, follow=True)
    assert response.status_code == 200
    assert any(words in m for m in messages_of(response)), messages_of(response)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACTIVE and not incident.escalated
    assert not HandoverNote.objects.exists() and not mail.outbox
    assert not Activity.objects.filter(target_type__in=["incident", "alert", "handover"])\
        .exists()


def test_a_text_at_the_limit_is_kept_whole(p, as_user):
    incident = make_incident(p.sub)
    text = "y" * 4000
    as_user(p.analyst).post(f"/s/{p.sub.pk}/queue/handover/", {"text": text})
    as_user(p.analyst).post(f"/s/{p.sub.pk}/queue/bulk/",
                            {"ids": [incident.pk], "action": "resolve", "comment": text})
    assert HandoverNote.objects.get().text == text
    assert Activity.objects.get(verb="incident.resolve").reason == text


@pytest.mark.parametrize("path, body, field", [
    ("incidents/{incident}/comment", {"comment": LONG}, "comment"),
    ("incidents/{incident}/resolve", {"comment": LONG}, "comment"),
    ("incidents/{incident}/escalate", {"to": "leads", "note": LONG}, "note"),
    ("incidents/{incident}/assign", {"to": "me", "reason": LONG}, "reason"),
    ("alerts/{alert}/comment", {"comment": LONG}, "comment"),
    ("alerts/{alert}/dismiss", {"verdict": "false_positive", "comment": LONG}, "comment"),
])
def test_the_api_refuses_a_long_text_with_its_field(p, client, path, body, field):
    incident, alert = make_incident(p.sub), make_alert(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=[Scope.READ, Scope.ACT])
    response = client.post("/api/v1/" + path.format(incident=incident.pk, alert=alert.pk),
                           json.dumps(body), content_type="application/json", **token.header)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field and "4000" in error["message"], error
    assert not Activity.objects.filter(target_type__in=["incident", "alert"]).exists()
