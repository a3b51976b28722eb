import pytest
from django.test import override_settings

from inventory.models import LoginFailure
from socconsole.lib.net import parse_networks


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


def test_it_throttles_an_account_from_one_address_not_its_user_elsewhere(p, client):
    # Five wrong passwords from the attacker's address (the default pair limit)...
    for _ in range(5):
        post_login(client, "analyst", "wrong", "192.0.2.66")
    response = post_login(client, "analyst", "correct horse battery staple", "192.0.2.66")
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content
    # ...do not lock the user out at their usual address.
    assert post_login(client, "analyst", "correct horse battery staple")["Location"] == "/"
    client.post("/logout/")
    # Nor does their success forgive the attacker's address.
    assert b"Too many failed" in post_login(client, "analyst", "correct horse battery staple",
                                            "192.0.2.66").content


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=8)
def test_it_throttles_an_account_tried_from_many_addresses(p, client):
    for i in range(8):
        post_login(client, "Analyst", "wrong", f"192.0.2.{i + 1}")
    response = post_login(client, "analyst", "correct horse battery staple")
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content
    # Another account from another address is not affected.
    assert post_login(client, "lead", "correct horse battery staple", "203.0.113.9")\
        .status_code == 302


def test_the_account_limit_is_slower_than_the_pair_limit(p, client):
    from datetime import timedelta

    from django.utils import timezone

    # Failures from other addresses 20 minutes ago: past the pair and address window, still
    # within the account's hour.
    old = timezone.now() - timedelta(minutes=20)
    LoginFailure.objects.bulk_create([LoginFailure(username="analyst", address=f"192.0.2.{i}")
                                      for i in range(1, 50)])
    LoginFailure.objects.update(created_at=old)
    assert post_login(client, "analyst", "correct horse battery staple")["Location"] == "/"
    client.post("/logout/")
    post_login(client, "analyst", "wrong", "198.51.100.200")  # the fiftieth in the hour
    assert b"Too many failed" in post_login(client, "analyst",
                                            "correct horse battery staple").content
    LoginFailure.objects.filter(address__startswith="192.0.2.").update(
        created_at=timezone.now() - timedelta(minutes=61))
    assert post_login(client, "analyst", "correct horse battery staple")["Location"] == "/"


@override_settings(LOGIN_FAILURES_PER_ADDRESS=4)
def test_it_throttles_an_address(p, client):
    for name in ("a", "b", "c", "d"):
        post_login(client, name, "wrong")
    assert b"Too many failed" in post_login(client, "analyst",
                                            "correct horse battery staple").content
    assert LoginFailure.objects.count() == 4


def test_a_successful_login_clears_its_own_address_s_failures(p, client):
    post_login(client, "analyst", "wrong")
    post_login(client, "analyst", "wrong", "192.0.2.66")
    post_login(client, "analyst", "correct horse battery staple")
    assert list(LoginFailure.objects.filter(username="analyst")
                .values_list("address", flat=True)) == ["192.0.2.66"]


def test_old_failures_are_purged_after_the_longest_window(p):
    from datetime import timedelta

    from django.utils import timezone

    from inventory.login import purge_old_failures

    now = timezone.now()
    for minutes in (30, 59, 61):
        row = LoginFailure.objects.create(username="x", address="192.0.2.1")
        LoginFailure.objects.filter(pk=row.pk).update(created_at=now - timedelta(minutes=minutes))
    assert purge_old_failures() == 1
    assert LoginFailure.objects.count() == 2


@override_settings(TRUSTED_PROXIES=parse_networks(["172.31.240.0/24"]))
def test_x_forwarded_for_is_ignored_from_a_peer_that_is_not_a_proxy(p, client):
    # Reached past the proxy, a guesser rotating X-Forwarded-For is still one address.
    for i in range(25):
        client.post("/login/", {"username": f"user{i}", "password": "wrong"},
                    REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR=f"10.9.{i}.1")
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"192.0.2.66"}
    response = client.post("/login/", {"username": "analyst",
                                       "password": "correct horse battery staple"},
                           REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert b"Too many failed" in response.content


@override_settings(TRUSTED_PROXIES=parse_networks(["172.31.240.0/24"]))
def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(p, client):
    for forwarded in ("198.51.100.7", "10.1.1.1, 198.51.100.7"):
        client.post("/login/", {"username": "analyst", "password": "wrong"},
                    REMOTE_ADDR="172.31.240.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert list(LoginFailure.objects.values_list("address", flat=True)) == ["198.51.100.7"] * 2


def test_the_login_page_has_a_strict_csp(client, db):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_logout_needs_post(p, as_user, method):
    response = getattr(as_user(p.analyst), method)("/logout/")
    assert response.status_code == (405 if method == "get" else 302)
