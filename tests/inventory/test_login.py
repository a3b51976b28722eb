import pytest
from django.test import override_settings

from inventory.models import LoginFailure


def post_login(client, username, password, address="198.51.100.7"):
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_it_signs_in_and_out(p, client):
    response = post_login(client, "analyst", "correct horse battery staple")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 302
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get(f"/s/{p.sub.pk}/").status_code == 302


def test_it_says_the_same_for_unknown_users_and_wrong_passwords(p, client):
    unknown = post_login(client, "nobody", "whatever").content
    wrong = post_login(client, "analyst", "whatever").content
    assert b"do not match an active account" in unknown
    def errors(html):
        return html.split(b'class="errors"')[1].split(b"</div>")[0]

    assert errors(unknown) == errors(wrong)


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3)
def test_it_throttles_an_account(p, client):
    for _ in range(3):
        post_login(client, "analyst", "wrong")
    response = post_login(client, "analyst", "correct horse battery staple")
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content
    # Another account from another address is not affected.
    assert post_login(client, "lead", "correct horse battery staple", "203.0.113.9")\
        .status_code == 302


@override_settings(LOGIN_FAILURES_PER_ADDRESS=4)
def test_it_throttles_an_address(p, client):
    for name in ("a", "b", "c", "d"):
        post_login(client, name, "wrong")
    assert b"Too many failed" in post_login(client, "analyst",
                                            "correct horse battery staple").content
    assert LoginFailure.objects.count() == 4


def test_a_successful_login_clears_the_account_s_failures(p, client):
    post_login(client, "analyst", "wrong")
    post_login(client, "analyst", "correct horse battery staple")
    assert not LoginFailure.objects.filter(username="analyst").exists()


def test_the_login_page_has_a_strict_csp(client, db):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_logout_needs_post(p, as_user, method):
    response = getattr(as_user(p.analyst), method)("/logout/")
    assert response.status_code == (405 if method == "get" else 302)
