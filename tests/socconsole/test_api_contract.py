"""The served OpenAPI schema says what the API does: schemathesis walks every operation with
a token of each scope and fails on any 5xx, an undocumented status, a body off the schema,
or a request the schema forbids that is accepted.

Bounded for CI: 20 generated cases an operation (some 350 in all, each sent with the four
tokens), a fixed seed, no example database; about 15 s of CPU."""

import json
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation

from inventory.roles import Scope
from search.ingest import ingest_event_body
from socconsole.wsgi import application
from tests.conftest import make_token
from tests.factories import make_alert, make_incident

CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]

# A fixed seed; positive and negative data. The coverage phase is off: it sends every
# boundary case of every parameter (some 1,700 here), past this test's budget.
CONFIG = schemathesis.Config.from_dict({
    "seed": 20261206,
    "generation": {"mode": "all"},
    "phases": {"coverage": {"enabled": False}},
})
# An NDJSON body is text, its lines the items.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# The schema as the app serves it, through the WSGI application gunicorn runs (read at
# collection: it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

EVENTS = [{"TimeGenerated": "2026-11-27T10:00:00Z", "Computer": "vm-test-01", "EventID": 4625,
           "Account": "CONTOSO\\alice"},
          {"TimeGenerated": "2026-11-27T10:01:00Z", "Computer": "vm-test-01", "EventID": 4624,
           "Account": "CONTOSO\\alice"}]


class Contract:
    """A subscription with an incident, an alert and events; a token of each scope (`act`
    a shift lead's, so that reopening, assigning and acknowledging are reached)."""

    def __init__(self, p):
        incident = make_incident(p.sub)
        alert = make_alert(p.sub, severity="medium")
        workspace = p.sub.workspaces.get(is_default=True)
        p.lead.email = "lead@example.com"  # someone to receive an escalation
        p.lead.save(update_fields=["email"])
        ingest_event_body(workspace, "SecurityEvent", json.dumps(EVENTS).encode(),
                          "application/json")
        self.ids = {"alert_id": alert.pk, "incident_id": incident.pk, "subscription_id": p.sub.pk,
                    "ref": str(workspace.workspace_id)}
        self.tokens = {
            "ingest": make_token(p.sub, scopes=[Scope.INGEST], name="ingest"),
            "read": make_token(p.sub, scopes=[Scope.READ], name="read"),
            "act": make_token(p.sub, user=p.lead, scopes=[Scope.ACT], name="act"),
            "admin": make_token(p.sub, user=p.admin, scopes=[Scope.ADMIN], name="admin"),
        }


@pytest.fixture
def contract(p):
    return Contract(p)


@pytest.fixture(autouse=True)
def _keep_the_transaction():
    # As django.test.Client does: a request must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _real_ids(case, ids):
    """The schema's examples and half the other cases (chosen by their content, so runs
    repeat) name the objects that exist; never a case whose path is wrong on purpose."""
    if not case.path_parameters or not case.meta or \
            case.meta.is_negative_at(ParameterLocation.PATH):
        return
    if case.meta.phase.name != "examples" and \
            zlib.crc32(repr(case.path_parameters).encode()) % 2:
        return
    for name in case.path_parameters:
        if name in ids:
            case.path_parameters[name] = ids[name]


def _checks(case):
    # Any value goes on the wire as text, and any text is an NDJSON body: a "negative" one
    # is not wrong.
    if case.media_type == "application/x-ndjson" and case.meta and \
            case.meta.is_negative_at(ParameterLocation.BODY):
        return CHECKS
    return [*CHECKS, checks.negative_data_rejection]


@schema.parametrize()
@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_it_answers_as_the_schema_says(case, contract):
    _real_ids(case, contract.ids)
    for token in contract.tokens.values():
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=_checks(case))
