"""The served OpenAPI schema lists, on every operation, the errors any operation can answer."""

import pytest

from inventory.roles import Scope
from tests.conftest import make_token


@pytest.fixture
def operations(db, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    return doc, [(path, method, operation) for path, methods in doc["paths"].items()
                 for method, operation in methods.items()]


def test_it_declares_the_common_errors_on_every_operation(operations):
    doc, ops = operations
    assert len(ops) >= 17
    for path, method, operation in ops:
        statuses = set(operation["responses"])
        assert {"400", "401", "403", "414", "431", "503"} <= statuses, (method, path)
        assert statuses & {"200", "201", "204"}, (method, path)  # and how it succeeds
        assert ("404" in statuses) == ("{" in path), (method, path)
        if "requestBody" in operation:
            assert {"411", "413"} <= statuses, (method, path)
    retry = doc["paths"]["/api/v1/alerts"]["post"]["responses"]["503"]["headers"]
    assert "Retry-After" in retry


def test_it_describes_the_error_envelope_as_sent(operations, p, client):
    doc, _ = operations
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "field"}
    answers = [client.get("/api/v1/alerts"),
               client.get("/api/v1/alerts", **make_token(p.sub, scopes=[Scope.INGEST]).header),
               client.get("/api/v1/alerts/1", **make_token(p.sub).header)]
    assert [a.status_code for a in answers] == [401, 403, 404]
    for answer in answers:
        assert set(answer.json()) == {"error"}
        assert set(answer.json()["error"]) == set(detail["properties"])


def test_it_says_the_ingest_bodies_may_be_arrays(operations):
    doc, _ = operations
    for path in ("/api/v1/alerts", "/api/v1/workspaces/{ref}/events"):
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert set(body["schema"]["type"]) == {"object", "array"}, path
