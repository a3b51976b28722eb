"""The OpenAPI schema the app serves names the incident endpoints, bodies and filters."""


def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def body_schema(doc, operation):
    """The object schema of a body (an optional body is `anyOf` it and null)."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    ref = next(s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s)
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def options(parameter):
    schema = parameter["schema"]
    return {v for s in schema.get("anyOf", [schema]) for v in s.get("enum", ())}


def test_it_lists_the_owner_actions_with_their_bodies(db, client):
    doc = schema(client)
    paths = doc["paths"]
    assign = paths["/api/v1/incidents/{incident_id}/assign"]["post"]
    assert set(body_schema(doc, assign)["properties"]) == {"to", "reason"}
    escalate = paths["/api/v1/incidents/{incident_id}/escalate"]["post"]
    properties = body_schema(doc, escalate)["properties"]
    assert set(properties) == {"to", "note"}
    assert "leads" in str(properties["to"]) and "owner" in str(properties["to"])
    acknowledge = paths["/api/v1/incidents/{incident_id}/acknowledge"]["post"]
    assert set(body_schema(doc, acknowledge)["properties"]) == {"reason"}
    for operation in (assign, escalate, acknowledge):
        assert {"200", "400", "403", "404"} <= set(operation["responses"])
    answer = assign["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = doc["components"]["schemas"][answer.rsplit("/", 1)[1]]["properties"]
    assert {"assigned_to", "escalated", "escalated_to", "escalation_acknowledged", "status",
            "changed"} <= set(fields)


def test_it_lists_the_triage_actions(db, client):
    paths = schema(client)["paths"]
    triage = paths["/api/v1/incidents/{incident_id}/{action}"]["post"]
    action = next(p for p in triage["parameters"] if p["name"] == "action")
    assert options(action) == {"dismiss", "resolve", "activate", "comment"}


def test_it_lists_the_queue_filters(db, client):
    listing = schema(client)["paths"]["/api/v1/incidents"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert {"severity", "status", "resource", "assigned", "unassigned", "escalated", "overdue",
            "since", "until", "q", "cursor", "limit"} <= set(parameters)
    assert options(parameters["assigned"]) == {"me", "none"}
    assert "date-time" in str(parameters["since"]["schema"])
    assert "date-time" in str(parameters["until"]["schema"])
