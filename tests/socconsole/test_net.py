"""The client's address: X-Forwarded-For believed only from TRUSTED_PROXIES."""

import pytest
from django.test import RequestFactory, override_settings

from socconsole.lib.net import client_address, parse_networks

PROXIES = parse_networks(["172.31.240.0/24", "10.0.0.5", "fd00::/8"])


def request(peer, forwarded=None, **meta):
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", REMOTE_ADDR=peer, **meta)


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("192.0.2.9", "203.0.113.1", "192.0.2.9"),              # not a proxy: header ignored
    ("172.31.240.2", "203.0.113.1", "203.0.113.1"),         # the proxy says who
    ("172.31.240.2", "6.6.6.6, 203.0.113.1", "203.0.113.1"),  # the client's own claim: no
    ("172.31.240.2", "203.0.113.1, 10.0.0.5", "203.0.113.1"),  # two proxies, both trusted
    ("172.31.240.2", "", "172.31.240.2"),                    # nothing forwarded
    ("172.31.240.2", "not-an-address", "172.31.240.2"),
    ("172.31.240.2", "203.0.113.1, junk", "172.31.240.2"),
    ("fd00::1", "2001:db8::7", "2001:db8::7"),
])
def test_it_believes_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, expected):
    assert client_address(request(peer, forwarded), PROXIES) == expected


def test_it_refuses_a_bad_network():
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_networks(["10.0.0.0/8", "10.0.0.300"])


@override_settings(TRUSTED_PROXIES=PROXIES, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO",
                                                                     "https"))
def test_forwarded_headers_from_anyone_else_are_dropped(client, db):
    from django.http import HttpResponse

    from socconsole.lib.middleware import ForwardedHeadersMiddleware

    seen = {}

    def view(req):
        seen.update(secure=req.is_secure(), forwarded=req.META.get("HTTP_X_FORWARDED_FOR"))
        return HttpResponse()

    middleware = ForwardedHeadersMiddleware(view)
    middleware(request("192.0.2.9", "203.0.113.1", HTTP_X_FORWARDED_PROTO="https"))
    assert seen == {"secure": False, "forwarded": None}
    middleware(request("172.31.240.2", "203.0.113.1", HTTP_X_FORWARDED_PROTO="https"))
    assert seen == {"secure": True, "forwarded": "203.0.113.1"}
