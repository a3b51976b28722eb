"""The blocklist pages, Block IP on the alert and incident pages, and the firewall feed."""

import datetime as dt
import email.utils

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from inventory.models import Activity
from response.blocklist import block
from response.models import BlockEntry, FeedToken, NeverBlock
from tests.conftest import SYSTEM
from tests.factories import make_alert, make_feed_token, make_incident


def url(p, name, **kwargs):
    return reverse(f"response:{name}", kwargs={"sub": p.sub.pk, **kwargs})


def feed_path(plaintext):
    return reverse("response:feed", args=[plaintext])


def test_an_analyst_blocks_an_address_from_the_alert_page(p, as_user):
    alert = make_alert(p.sub, remediation_steps=["Block 203.0.113.50 at the firewall."])
    client = as_user(p.analyst)
    page = client.get(reverse("alerts:detail", kwargs={"sub": p.sub.pk, "alert_id": alert.pk}))
    assert page.content.decode().count(">Block 203.0.113.50</summary>") == 2  # entity, step

    answer = client.post(url(p, "block"), {"address": "203.0.113.50", "alert": alert.pk,
                                           "reason": "Alert: brute force", "days": 7})

    assert answer.status_code == 302 and answer["Location"].endswith(f"/alerts/{alert.pk}/")
    entry = BlockEntry.objects.get()
    assert (entry.network, entry.alert_id, entry.created_by) == ("203.0.113.50/32", alert.pk,
                                                                   p.analyst)


def test_a_block_from_the_incident_is_on_its_timeline(p, as_user):
    incident = make_incident(p.sub)
    client = as_user(p.analyst)
    detail = reverse("incidents:detail", kwargs={"sub": p.sub.pk, "incident_id": incident.pk})
    assert "Block 203.0.113.50" in client.get(detail).content.decode()

    client.post(url(p, "block"), {"address": "203.0.113.50", "incident": incident.pk,
                                  "reason": "the attacker", "days": 3})

    page = client.get(detail).content.decode()
    assert "address.block" in page or "203.0.113.50 — " in page
    assert Activity.objects.filter(verb="address.block", target_type="incident",
                                   target_id=str(incident.pk)).exists()


def test_a_held_back_range_asks_a_lead_and_the_lead_confirms(p, as_user):
    answer = as_user(p.analyst).post(url(p, "block"), {"address": "10.0.0.0/24",
                                                       "reason": "x", "days": 7})
    assert answer.status_code == 400
    assert "A shift lead must confirm" in answer.content.decode()
    assert 'name="confirm"' not in answer.content.decode()  # an analyst cannot confirm

    lead = as_user(p.lead)
    answer = lead.post(url(p, "block"), {"address": "10.0.0.0/24", "reason": "x", "days": 7})
    assert 'name="confirm"' in answer.content.decode()
    assert lead.post(url(p, "block"), {"address": "10.0.0.0/24", "reason": "x", "days": 7,
                                       "confirm": "on"}).status_code == 302
    assert BlockEntry.objects.get().confirmed_by == p.lead


@pytest.mark.parametrize("data, message", [
    ({"address": "not-an-ip", "reason": "x", "days": 7}, "is not an IPv4 or IPv6"),
    ({"address": "203.0.113.1", "reason": "", "days": 7}, "Give a reason"),
    ({"address": "203.0.113.1", "reason": "x", "days": 999}, "less than or equal to 365"),
    ({"address": "0.0.0.0/0", "reason": "x", "days": 7}, "every address"),
    ({"address": "203.0.113.1", "reason": "x", "days": 7, "alert": "12\u00b9"}, "Not an id"),
])
def test_bad_input_is_a_page_with_the_reason_and_stores_nothing(p, as_user, data, message):
    answer = as_user(p.lead).post(url(p, "block"), data)
    assert answer.status_code == 400 and message in answer.content.decode()
    assert not BlockEntry.objects.exists()


def test_an_alert_of_another_subscription_is_not_found(p, as_user):
    foreign = make_alert(p.other)
    answer = as_user(p.analyst).post(url(p, "block"), {"address": "203.0.113.1", "reason": "x",
                                                       "days": 7, "alert": foreign.pk})
    assert answer.status_code == 404 and not BlockEntry.objects.exists()


def test_roles(p, as_user):
    data = {"address": "203.0.113.1", "reason": "x", "days": 7}
    assert as_user(p.admin).post(url(p, "block"), data).status_code == 403
    assert as_user(p.outsider).post(url(p, "block"), data).status_code == 404
    assert as_user(p.outsider).get(url(p, "blocklist")).status_code == 404
    assert as_user(p.analyst).post(url(p, "never-block-add"),
                                   {"address": "192.0.2.1", "note": "dns"}).status_code == 403
    assert as_user(p.lead).post(url(p, "feed-token-create"), {"name": "fw"}).status_code == 403
    assert as_user(p.analyst).get(url(p, "blocklist")).status_code == 200
    assert not BlockEntry.objects.exists() and not NeverBlock.objects.exists()


def test_renew_and_remove_from_the_page(p, as_user):
    entry, _ = block(p.sub, "203.0.113.60", actor=SYSTEM, role="analyst", reason="x", days=1)
    client = as_user(p.analyst)
    assert client.post(url(p, "renew", entry_id=entry.pk), {"days": 30}).status_code == 302
    entry.refresh_from_db()
    assert entry.expires_at - timezone.now() > dt.timedelta(days=29)
    assert client.post(url(p, "renew", entry_id=entry.pk), {"days": "x"}).status_code == 400

    assert client.post(url(p, "unblock", entry_id=entry.pk), {"reason": "fp"}).status_code == 302
    assert client.post(url(p, "unblock", entry_id=entry.pk)).status_code == 302  # idempotent
    entry.refresh_from_db()
    assert entry.removed_at is not None and entry.removed_by_label == "analyst"
    assert as_user(p.admin).post(url(p, "unblock", entry_id=entry.pk)).status_code == 403


def test_the_page_escapes_what_an_attacker_wrote(p, as_user):
    alert = make_alert(p.sub, display_name="<script>window.x=1</script>")
    block(p.sub, "203.0.113.61", actor=SYSTEM, role="analyst", alert=alert,
          reason="<img src=x onerror=alert(1)>")
    page = as_user(p.analyst).get(url(p, "blocklist")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<script>window.x" not in page


def test_the_admin_creates_a_feed_token_and_the_firewall_reads_the_feed(p, as_user, client):
    admin = as_user(p.admin)
    answer = admin.post(url(p, "feed-token-create"), {"name": "pa-edge-01"})
    assert answer.status_code == 302
    page = admin.get(url(p, "blocklist"))
    assert page["Cache-Control"] == "no-store"
    feed_url = page.content.decode().split('id="new-feed-url"')[1].split("<code>")[1]\
        .split("</code>")[0]
    assert "/feeds/socfeed_" in feed_url
    assert "socfeed_" not in admin.get(url(p, "blocklist")).content.decode()  # shown once
    token = FeedToken.objects.get()
    assert token.secret_hash not in feed_url

    block(p.sub, "203.0.113.87", actor=SYSTEM, role="analyst", reason="attacker")
    path = feed_url.split("://", 1)[1].split("/", 1)[1]
    client.logout()
    served = client.get("/" + path)

    assert served.status_code == 200
    assert served["Content-Type"] == "text/plain; charset=utf-8"
    assert served.content == b"203.0.113.87\n"


def test_the_feed_answers_304_while_unchanged_and_drops_expired_entries(p, client):
    token, plaintext = make_feed_token(p.sub)
    entry, _ = block(p.sub, "203.0.113.90", actor=SYSTEM, role="analyst", reason="x")
    first = client.get(feed_path(plaintext))
    etag, modified = first["ETag"], first["Last-Modified"]
    assert email.utils.parsedate_to_datetime(modified)

    assert client.get(feed_path(plaintext), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(feed_path(plaintext), HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(feed_path(plaintext), HTTP_IF_NONE_MATCH='"other"').status_code == 200

    BlockEntry.objects.filter(pk=entry.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    after = client.get(feed_path(plaintext), HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after.content == b"" and after["ETag"] != etag


def test_a_revoked_or_wrong_feed_token_serves_nothing(p, client, as_user):
    token, plaintext = make_feed_token(p.sub)
    block(p.sub, "203.0.113.91", actor=SYSTEM, role="analyst", reason="x")
    assert client.get(feed_path(plaintext[:-1] + "A")).status_code == 404
    assert client.get(feed_path("soc_" + plaintext[8:])).status_code == 404
    as_user(p.admin).post(url(p, "feed-token-revoke", token_id=token.pk))
    assert client.get(feed_path(plaintext)).status_code == 404
    assert client.post(feed_path(plaintext)).status_code == 405


def test_the_command_prints_the_feed_url(p, capsys, client):
    call_command("create_feed_token", "--subscription", "Contoso", "--name", "fg-01")
    out = capsys.readouterr().out
    assert "shown only this once" in out
    feed = out.strip().splitlines()[-1]
    assert client.get("/" + feed.split("://", 1)[1].split("/", 1)[1]).status_code == 200
    with pytest.raises(Exception, match="No subscription named 'Nope'"):
        call_command("create_feed_token", "--subscription", "Nope")


def test_the_api_blocks_lists_and_unblocks_with_the_act_scope(p, client):
    from inventory.roles import Scope
    from tests.conftest import make_token

    act = make_token(p.sub, user=p.analyst, scopes=[Scope.ACT])
    read = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    alert = make_alert(p.sub)
    body = {"address": "203.0.113.87", "reason": "attacker", "alert_id": alert.pk}

    made = client.post("/api/v1/blocklist", body, content_type="application/json", **act.header)
    again = client.post("/api/v1/blocklist", body, content_type="application/json", **act.header)

    assert made.status_code == 201 and made.json()["entry"]["address"] == "203.0.113.87"
    assert again.status_code == 200 and again.json()["created"] is False
    listed = client.get("/api/v1/blocklist", **read.header).json()["entries"]
    assert [e["network"] for e in listed] == ["203.0.113.87/32"]
    assert client.post("/api/v1/blocklist", body, content_type="application/json",
                       **read.header).status_code == 403
    entry_id = made.json()["entry"]["id"]
    assert client.delete(f"/api/v1/blocklist/{entry_id}?reason=done", **act.header)\
        .status_code == 204
    assert client.get("/api/v1/blocklist", **read.header).json()["entries"] == []


@pytest.mark.parametrize("body, status, code", [
    ({"address": "10.0.0.1", "reason": "x"}, 400, "needs_lead"),
    ({"address": "0.0.0.0/0", "reason": "x", "confirm": True}, 400, "refused"),
    ({"address": "nope", "reason": "x"}, 400, "refused"),
    ({"address": "203.0.113.1", "reason": "x", "days": "7"}, 400, None),
    ({"address": "203.0.113.1", "reason": "x", "extra": 1}, 400, None),
    ({"address": "203.0.113.1", "reason": "x", "alert_id": 999999}, 400, "invalid"),
])
def test_the_api_refuses_bad_blocks_with_a_reason(p, client, body, status, code):
    from inventory.roles import Scope
    from tests.conftest import make_token

    act = make_token(p.sub, user=p.lead, scopes=[Scope.ACT])
    answer = client.post("/api/v1/blocklist", body, content_type="application/json", **act.header)
    assert answer.status_code == status
    if code:
        assert answer.json()["error"]["code"] == code
    assert not BlockEntry.objects.exists()


def test_the_api_hides_other_subscriptions_entries(p, client):
    from inventory.roles import Scope
    from tests.conftest import make_token

    entry, _ = block(p.other, "203.0.113.2", actor=SYSTEM, role="analyst", reason="x")
    act = make_token(p.sub, user=p.analyst, scopes=[Scope.ACT, Scope.READ])
    assert client.delete(f"/api/v1/blocklist/{entry.pk}", **act.header).status_code == 404
    assert client.get("/api/v1/blocklist", **act.header).json()["entries"] == []
