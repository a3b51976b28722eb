"""GET /api/v1/incidents: the queue's filters by API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.assignment import assign
from incidents.models import Incident
from inventory.roles import Role, Scope
from tests.conftest import SYSTEM, make_token
from tests.factories import make_incident


def ids(client, token, query):
    response = client.get(f"/api/v1/incidents?{query}", **token.header)
    assert response.status_code == 200, response.content
    return {i["id"] for i in response.json()["items"]}


def three(p):
    """Incidents on three resources: the analyst's, the lead's and nobody's."""
    mine = make_incident(p.sub, compromised_entity="vm-a", entities=[])
    theirs = make_incident(p.sub, compromised_entity="vm-b", entities=[])
    nobodys = make_incident(p.sub, compromised_entity="vm-c", entities=[])
    assign(mine, to=p.analyst, actor=SYSTEM, role=Role.SHIFT_LEAD)
    assign(theirs, to=p.lead, actor=SYSTEM, role=Role.SHIFT_LEAD)
    return mine, theirs, nobodys


def test_it_filters_what_is_assigned_to_the_tokens_user(p, client):
    mine, theirs, nobodys = three(p)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    assert ids(client, token, "assigned=me") == {mine.pk}
    assert ids(client, make_token(p.sub, user=p.lead, scopes=[Scope.READ]),
               "assigned=me") == {theirs.pk}


def test_it_filters_what_is_unassigned(p, client):
    mine, theirs, nobodys = three(p)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    assert ids(client, token, "assigned=none") == {nobodys.pk}
    assert ids(client, token, "unassigned=true") == {nobodys.pk}
    assert ids(client, token, "unassigned=false") == {mine.pk, theirs.pk, nobodys.pk}


@pytest.mark.parametrize("query, field", [
    ("assigned=bob", "assigned"),
    ("assigned=", "assigned"),
    ("assigned=ME", "assigned"),
    ("overdue=maybe", "overdue"),
    ("unassigned=perhaps", "unassigned"),
    ("escalated=2", "escalated"),
    ("since=yesterday", "since"),
    ("until=2026-13-40T00:00:00Z", "until"),
    ("since=9999-12-31T23:59:59-01:00", "since"),
    ("assigned=me&unassigned=true", "assigned"),
    ("asigned=me", "asigned"),
    ("assigned=me&assigned=none", "assigned"),
    ("overdue=true&overdue=false", "overdue"),
    ("limit=0", "limit"),
])
def test_it_refuses_an_unknown_filter_value(p, client, query, field):
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    response = client.get(f"/api/v1/incidents?{query}", **token.header)
    assert response.status_code == 400, (query, response.content)
    assert response.json()["error"]["field"] == field, response.json()


def test_it_refuses_assigned_me_for_a_service_token(p, client):
    token = make_token(p.sub)  # no user: a service identity
    response = client.get("/api/v1/incidents?assigned=me", **token.header)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "assigned"


def test_it_filters_what_is_overdue(p, client):
    hour_ago = timezone.now() - timedelta(hours=1)
    late = make_incident(p.sub, severity="high", compromised_entity="vm-late", entities=[])
    Incident.objects.filter(pk=late.pk).update(first_time=hour_ago, created_at=hour_ago)
    fresh = make_incident(p.sub, severity="high", compromised_entity="vm-fresh", entities=[])
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    assert ids(client, token, "overdue=true") == {late.pk}
    assert ids(client, token, "overdue=false") == {late.pk, fresh.pk}
    # Acknowledged: the SLA clock stopped.
    assign(late, to=p.analyst, actor=SYSTEM, role=Role.SHIFT_LEAD)
    assert ids(client, token, "overdue=true") == set()


def test_it_filters_by_time_range(p, client):
    early = make_incident(p.sub, compromised_entity="vm-early", entities=[],
                          start_time="2026-11-01T10:00:00Z")
    late = make_incident(p.sub, compromised_entity="vm-late", entities=[],
                         start_time="2026-11-20T10:00:00Z")
    Incident.objects.filter(pk=early.pk).update(
        first_time="2026-11-01T10:00:00Z", last_time="2026-11-02T10:00:00Z")
    Incident.objects.filter(pk=late.pk).update(
        first_time="2026-11-20T10:00:00Z", last_time="2026-11-21T10:00:00Z")
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    assert ids(client, token, "since=2026-11-02T10:00:00Z") == {early.pk, late.pk}
    assert ids(client, token, "since=2026-11-02T10:00:01Z") == {late.pk}
    assert ids(client, token, "until=2026-11-20T09:59:59Z") == {early.pk}
    assert ids(client, token, "until=2026-11-20T10:00:00Z") == {early.pk, late.pk}
    # An incident that spans the range is in it; a time without offset is UTC.
    assert ids(client, token, "since=2026-11-01T12:00:00&until=2026-11-01T13:00:00") \
        == {early.pk}
    assert ids(client, token, "since=2026-11-01T12:00:00%2B02:00&until=2026-11-05") \
        == {early.pk}
    assert ids(client, token, "since=2026-11-10T00:00:00Z&until=2026-11-11T00:00:00Z") \
        == set()


def test_it_pages_a_filtered_queue_with_the_same_filters(p, client):
    made = [make_incident(p.sub, compromised_entity=f"vm-{n}", entities=[]) for n in range(5)]
    for incident in made[:4]:
        assign(incident, to=p.analyst, actor=SYSTEM, role=Role.SHIFT_LEAD)
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    first = client.get("/api/v1/incidents?assigned=me&limit=3", **token.header).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get(f"/api/v1/incidents?assigned=me&limit=3&cursor={first['next_cursor']}",
                      **token.header).json()
    assert {i["id"] for i in first["items"] + rest["items"]} == {i.pk for i in made[:4]}
    assert rest["next_cursor"] is None
