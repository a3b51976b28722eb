"""alerts.triage: who may change an alert is the domain function's to decide, once, for the
page, the API and the incident actions alike."""

import json

import pytest

from alerts.models import Alert
from alerts.triage import NotAllowed, change_alert
from inventory.models import Activity
from inventory.roles import Role, Scope
from tests.conftest import SYSTEM, make_token
from tests.factories import make_alert


def resolved_alert(p):
    alert = make_alert(p.sub)
    change_alert(alert, action="resolve", actor=SYSTEM, role=Role.SHIFT_LEAD,
                 reason="contained")
    return alert


def test_it_refuses_an_analyst_reopening_a_resolved_alert(p):
    alert = resolved_alert(p)
    with pytest.raises(NotAllowed, match="Only a shift lead"):
        change_alert(alert, action="activate", actor=SYSTEM, role=Role.ANALYST)
    assert Alert.objects.get(pk=alert.pk).status == "resolved"
    assert not Activity.objects.filter(verb="alert.activate").exists()
    assert change_alert(alert, action="activate", actor=SYSTEM, role=Role.SHIFT_LEAD)
    assert Alert.objects.get(pk=alert.pk).status == "active"


def test_it_lets_an_analyst_activate_what_was_dismissed(p):
    alert = make_alert(p.sub)
    change_alert(alert, action="dismiss", actor=SYSTEM, role=Role.ANALYST,
                 verdict="false_positive")
    assert change_alert(alert, action="activate", actor=SYSTEM, role=Role.ANALYST)


def test_it_refuses_a_role_that_may_not_triage(p):
    alert = make_alert(p.sub)
    for role in (Role.ADMIN, None):
        with pytest.raises(NotAllowed):
            change_alert(alert, action="dismiss", actor=SYSTEM, role=role,
                         verdict="false_positive")
    assert Alert.objects.get(pk=alert.pk).status == "active"


def test_an_analyst_cannot_reopen_on_the_page(p, as_user):
    alert = resolved_alert(p)
    response = as_user(p.analyst).post(f"/s/{p.sub.pk}/alerts/{alert.pk}/activate/")
    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == "resolved"
    assert as_user(p.lead).post(f"/s/{p.sub.pk}/alerts/{alert.pk}/activate/")\
        .status_code == 302
    assert Alert.objects.get(pk=alert.pk).status == "active"


def test_an_analyst_cannot_reopen_by_the_api(p, client):
    alert = resolved_alert(p)
    for user, status in ((p.analyst, 403), (p.lead, 200)):
        token = make_token(p.sub, user=user, scopes=[Scope.READ, Scope.ACT])
        response = client.post(f"/api/v1/alerts/{alert.pk}/activate", json.dumps({}),
                               content_type="application/json", **token.header)
        assert response.status_code == status, response.content
    assert Alert.objects.get(pk=alert.pk).status == "active"
