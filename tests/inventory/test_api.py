from inventory.roles import Scope
from tests.conftest import make_token


def test_it_lists_the_token_s_subscription(p, client):
    token = make_token(p.sub)
    response = client.get("/api/v1/subscriptions", **token.header)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [s["name"] for s in body["items"]] == ["Contoso"]


def test_a_token_without_read_sees_nothing(p, client):
    token = make_token(p.sub, scopes=[Scope.INGEST])
    assert client.get("/api/v1/subscriptions", **token.header).json()["items"] == []


def test_errors_have_the_envelope(p, client):
    response = client.get("/api/v1/subscriptions")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()["error"]) == {"code", "message", "field"}
    response = client.get("/api/v1/nowhere", **make_token(p.sub).header)
    assert response.status_code == 404


def test_the_schema_and_docs_are_served(client, db):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/subscriptions" in schema.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_a_revoked_token_is_refused_at_once(p, client):
    from inventory.tokens import revoke_token
    from tests.conftest import SYSTEM

    token = make_token(p.sub)
    assert client.get("/api/v1/subscriptions", **token.header).status_code == 200
    revoke_token(token.token, actor=SYSTEM)
    assert client.get("/api/v1/subscriptions", **token.header).status_code == 401


def test_every_api_error_is_the_json_envelope(p, client):
    token = make_token(p.sub)
    for method, url, status in [("get", "/api/v1/alerts/", 404), ("get", "/api/v1/nowhere", 404),
                                ("delete", "/api/v1/alerts", 405),
                                ("get", "/api/v1/alerts?resource=99999999999999999999999", 400),
                                ("get", "/api/v1/alerts/99999999999999999999999", 400)]:
        response = getattr(client, method)(url, **token.header)
        assert response.status_code == status, url
        assert response.json()["error"]["code"], url


def test_a_chunked_body_is_refused_with_411(rf):
    import pytest

    from socconsole.lib.apierrors import ApiError, read_body

    request = rf.post("/api/v1/alerts", b"{}", content_type="application/json",
                      HTTP_TRANSFER_ENCODING="chunked")
    del request.META["CONTENT_LENGTH"]  # as a chunked request arrives
    with pytest.raises(ApiError) as info:
        read_body(request, 1024)
    assert info.value.status == 411
