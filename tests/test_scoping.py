"""Every route, walked as an outsider: pages answer 404, the API 401 without a token.

A route added later without scoping fails here; a route with a new URL parameter
fails until this file learns how to make an object of another subscription for it.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from inventory.roles import Scope
from socconsole.api import api
from tests.conftest import make_token
from tests.factories import objects_of

# Routes that are not scoped to a subscription, and why.
UNSCOPED = {
    "home",        # redirects to the user's own first subscription
    "login",
    "logout",
    "favicon",     # a redirect to a static file
    "inventory:invitations",  # the signed-in user's own invitations (their answers: 404)
    "inventory:set-password",  # no login: the link's 256-bit secret is the key (unknown: 404)
    "response:feed",  # no login: the feed token is the key (unknown or revoked: 404)
}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield namespace + (entry.name or ""), prefix + str(entry.pattern)


def console_routes():
    for name, route in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/")) or name in UNSCOPED:
            continue
        yield name, route


def fill(route, values):
    def one(match):
        key = match.group(2)
        assert key in values, f"tests/factories.py: teach objects_of() the parameter {key!r}"
        return str(values[key])
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)


def test_every_console_route_is_hidden_from_outsiders(p, client):
    values = objects_of(p)
    client.force_login(p.outsider)
    routes = list(console_routes())
    assert len(routes) > 5
    for name, route in routes:
        url = fill(route, values)
        # 405 (a method the view never takes) says nothing about the object; one must be 404.
        codes = {client.get(url).status_code, client.post(url).status_code}
        assert codes <= {404, 405} and 404 in codes, f"{name} {url} answered {codes}"


def test_every_page_needs_a_login(p, client):
    values = objects_of(p)
    for name, route in console_routes():
        url = fill(route, values)
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], name


def api_routes():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield method, path


def fill_api(path, values):
    def one(match):
        key = match.group(1)
        assert key in values, f"tests/factories.py: teach objects_of() the parameter {key!r}"
        return str(values[key])
    return re.sub(r"\{(\w+)\}", one, path)


def test_every_api_route_needs_a_token_and_hides_other_subscriptions(p, client):
    values = objects_of(p)
    outsider_token = make_token(p.other, user=p.outsider,
                                scopes=[Scope.INGEST, Scope.READ, Scope.ADMIN])
    routes = list(api_routes())
    assert routes
    for method, path in routes:
        url = fill_api(path, values)
        # A well-formed request (an empty JSON object for writes): only scoping may refuse it.
        body = {"data": "{}", "content_type": "application/json"} \
            if method in ("post", "patch") else {}
        call = getattr(client, method)
        response = call(url, **body)
        assert response.status_code == 401, f"{method} {url} without a token"
        assert response.json()["error"]["code"] == "unauthenticated"
        response = call(url, **body, **outsider_token.header)
        if "{" in path:
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        else:
            assert response.status_code < 500


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer soc_000000000000_x", "Basic abc"])
def test_bad_tokens_get_401(p, client, header):
    response = client.get("/api/v1/subscriptions", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
