"""Outgoing webhooks against a real receiver on loopback: signing, retries with back-off,
failure and resend, the SSRF guard, the events that trigger them, and who may manage them."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.activity import Actor
from inventory.models import Activity
from response import webhooks
from response.blocklist import block
from response.dispatch import resend
from response.models import Delivery
from response.tasks import send_due_deliveries
from response.webhooks import WebhookError, create_webhook
from tests.conftest import SYSTEM
from tests.factories import make_alert

SECRET = "a-receiver-secret-of-32-characters!"


class Receiver:
    """An HTTP server on 127.0.0.1 answering each POST with the next planned status."""

    def __init__(self):
        self.requests, self.plan = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status, headers = receiver.plan.pop(0) if receiver.plan else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def hook(p, url, events=("address.blocked",), allow_private=True):
    return create_webhook(p.sub, name="playbook", url=url, secret=SECRET, events=events,
                          allow_private=allow_private, actor=Actor.of_user(p.admin), role="admin")


def blocked(p, callbacks, address="203.0.113.87"):
    with callbacks(execute=True):
        block(p.sub, address, actor=SYSTEM, role="analyst", reason="attacker")
    return Delivery.objects.latest("id")


def verify(headers, body, secret=SECRET, tolerance=300):
    """What a receiver does (docs/response.md): recompute the HMAC over "t." + body."""
    parts = dict(item.split("=", 1) for item in headers["X-Soc-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    fresh = abs(timezone.now().timestamp() - int(parts["t"])) < tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


def test_a_block_posts_a_signed_delivery_the_receiver_verifies(p, receiver,
                                                              django_capture_on_commit_callbacks):
    hook(p, receiver.url)
    delivery = blocked(p, django_capture_on_commit_callbacks)

    (headers, body), = receiver.requests
    assert verify(headers, body)
    assert not verify(headers, body, secret="another secret of enough length")
    assert not verify(headers, body.replace(b"203.0.113.87", b"203.0.113.88"))
    payload = json.loads(body)
    assert payload["event"] == "address.blocked" and payload["data"]["address"] == "203.0.113.87"
    assert headers["X-Soc-Event"] == "address.blocked"
    assert headers["X-Soc-Delivery"] == payload["id"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.last_latency_ms > 0


def test_a_failing_receiver_is_retried_with_back_off_then_delivered(
        p, receiver, django_capture_on_commit_callbacks):
    receiver.plan = [(500, {}), (503, {})]
    hook(p, receiver.url)
    delivery = blocked(p, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert "HTTP 500" in delivery.last_error
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)

    send_due_deliveries()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1
    for expected_wait in (60, None):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        send_due_deliveries()
        delivery.refresh_from_db()
        if expected_wait:
            assert timedelta(seconds=expected_wait - 5) < \
                delivery.next_attempt_at - timezone.now() <= timedelta(seconds=expected_wait)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    assert len(receiver.requests) == 3
    assert len({json.loads(b)["id"] for _, b in receiver.requests}) == 1  # the same delivery


def test_one_that_keeps_failing_is_marked_failed_and_can_be_resent(
        p, receiver, django_capture_on_commit_callbacks):
    receiver.plan = [(500, {})] * webhooks.MAX_ATTEMPTS
    hook(p, receiver.url)
    delivery = blocked(p, django_capture_on_commit_callbacks)
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        send_due_deliveries()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)

    with django_capture_on_commit_callbacks(execute=True):
        resend(delivery, actor=Actor.of_user(p.lead), role="shift_lead")

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 1)
    assert Activity.objects.filter(verb="webhook.resend").exists()


def test_a_loopback_receiver_is_refused_unless_an_admin_allowed_it(
        p, receiver, django_capture_on_commit_callbacks):
    hook(p, receiver.url, allow_private=False)
    delivery = blocked(p, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert "resolves to 127.0.0.1, a loopback address: refused" in delivery.last_error
    assert receiver.requests == []


def test_a_name_that_resolves_to_loopback_is_refused(p, receiver,
                                                     django_capture_on_commit_callbacks):
    hook(p, receiver.url.replace("127.0.0.1", "localhost"), allow_private=False)
    delivery = blocked(p, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert "localhost resolves to" in delivery.last_error and "refused" in delivery.last_error
    assert receiver.requests == []


def test_a_redirect_to_loopback_is_not_followed(p, receiver,
                                               django_capture_on_commit_callbacks):
    receiver.plan = [(302, {"Location": "http://127.0.0.1:1/admin"})]
    hook(p, receiver.url)
    delivery = blocked(p, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.last_status == 302
    assert "Redirects are not followed (to http://127.0.0.1:1/admin)" in delivery.last_error
    assert len(receiver.requests) == 1


def test_new_alerts_and_escalations_are_events(p, receiver, django_capture_on_commit_callbacks):
    from incidents.assignment import escalate
    from tests.factories import make_incident

    hook(p, receiver.url, events=("alert.created", "incident.escalated"))
    with django_capture_on_commit_callbacks(execute=True):
        make_alert(p.sub, display_name="Brute force on web-07")
    incident = make_incident(p.sub)
    p.lead.email = "lead@example.com"
    p.lead.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        escalate(incident, to="leads", note="ransomware staging", actor=Actor.of_user(p.analyst),
                 role="analyst")

    events = [(json.loads(b)["event"], json.loads(b)["data"]) for _, b in receiver.requests]
    assert ("alert.created", "Brute force on web-07") in [(e, d.get("display_name"))
                                                          for e, d in events]
    escalated = [d for e, d in events if e == "incident.escalated"]
    assert escalated and escalated[0]["incident_id"] == incident.pk
    assert escalated[0]["reason"] == "ransomware staging"


@pytest.mark.parametrize("kwargs, message", [
    ({"url": "ftp://example.com/x"}, "http:// or https://"),
    ({"url": "https://user:pw@example.com/"}, "no credentials"),
    ({"secret": "short"}, "at least 16"),
    ({"events": ["alert.deleted"]}, "Choose events"),
    ({"name": " "}, "Name the webhook"),
])
def test_it_refuses_a_bad_webhook(p, kwargs, message):
    values = {"name": "x", "url": "https://hooks.example.com/soc", "secret": SECRET,
              "events": ["address.blocked"], "allow_private": False, **kwargs}
    with pytest.raises(WebhookError, match=message):
        create_webhook(p.sub, actor=SYSTEM, role="admin", **values)


def test_who_may_manage_webhooks(p, as_user, receiver):
    page = reverse("response:webhooks", kwargs={"sub": p.sub.pk})
    assert as_user(p.analyst).get(page).status_code == 403
    assert as_user(p.outsider).get(page).status_code == 404
    lead = as_user(p.lead)
    assert lead.get(page).status_code == 200
    answer = lead.post(reverse("response:webhook-create", kwargs={"sub": p.sub.pk}),
                       {"name": "<b>pb</b>", "url": receiver.url, "secret": SECRET,
                        "events": ["address.blocked"], "allow_private": "on"})
    assert answer.status_code == 302
    shown = lead.get(page).content.decode()
    assert "&lt;b&gt;pb&lt;/b&gt;" in shown and SECRET not in shown
    bad = lead.post(reverse("response:webhook-create", kwargs={"sub": p.sub.pk}),
                    {"name": "x", "url": "gopher://x", "secret": SECRET,
                     "events": ["address.blocked"]})
    assert bad.status_code == 400 and "http:// or https://" in bad.content.decode()


def test_host_isolation_goes_to_the_playbook_and_its_answer_to_the_timeline(
        p, receiver, as_user, django_capture_on_commit_callbacks):
    from tests.factories import make_incident

    hook(p, receiver.url, events=("host.isolation_requested", "account.disable_requested"))
    incident = make_incident(p.sub)
    detail = reverse("incidents:detail", kwargs={"sub": p.sub.pk, "incident_id": incident.pk})
    client = as_user(p.analyst)
    page = client.get(detail).content.decode()
    assert "Request host isolation" in page and "Disable account" in page

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("response:action", kwargs={"sub": p.sub.pk}), {
            "kind": "host.isolation_requested", "target": "vm-test-01",
            "incident": incident.pk, "reason": "credential dumping"})

    assert answer.status_code == 302 and answer["Location"] == detail
    (headers, body), = receiver.requests
    assert verify(headers, body)
    assert json.loads(body)["data"]["target"] == "vm-test-01"
    verbs = list(Activity.objects.filter(target_type="incident", target_id=str(incident.pk))
                 .order_by("id").values_list("verb", flat=True))
    assert verbs[-2:] == ["host.isolation_requested", "host.isolation_requested.delivered"]
    assert "host.isolation_requested.delivered" in client.get(detail).content.decode() or \
        "answered HTTP 200" in client.get(detail).content.decode()


def test_a_failed_playbook_call_is_on_the_timeline_too(p, receiver,
                                                       django_capture_on_commit_callbacks):
    from response.actions import request_action
    from tests.factories import make_incident

    receiver.plan = [(500, {})] * webhooks.MAX_ATTEMPTS
    hook(p, receiver.url, events=("account.disable_requested",))
    incident = make_incident(p.sub)
    with django_capture_on_commit_callbacks(execute=True):
        request_action(p.sub, "account.disable_requested", "CONTOSO\\alice",
                       actor=Actor.of_user(p.analyst), role="analyst", reason="stolen",
                       incident=incident)
    delivery = Delivery.objects.get()
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        send_due_deliveries()
    failed = Activity.objects.get(verb="account.disable_requested.failed")
    assert failed.target_id == str(incident.pk) and "after 6 attempts" in failed.reason


def test_an_action_without_a_playbook_is_refused_and_not_recorded(p, as_user):
    from response.models import ActionRequest

    alert = make_alert(p.sub)
    answer = as_user(p.analyst).post(reverse("response:action", kwargs={"sub": p.sub.pk}), {
        "kind": "host.isolation_requested", "target": "vm-test-01", "alert": alert.pk,
        "reason": "x"}, follow=True)
    assert "No playbook takes" in answer.content.decode()
    assert not ActionRequest.objects.exists()
    bad = as_user(p.analyst).post(reverse("response:action", kwargs={"sub": p.sub.pk}), {
        "kind": "reboot", "target": "vm-test-01", "reason": "x"})
    assert bad.status_code == 400
    assert as_user(p.admin).post(reverse("response:action", kwargs={"sub": p.sub.pk}), {
        "kind": "host.isolation_requested", "target": "x", "reason": "x"}).status_code == 403


def test_correlation_making_an_incident_is_an_event(p, receiver,
                                                    django_capture_on_commit_callbacks):
    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    hook(p, receiver.url, events=("incident.created",))
    first = make_alert(p.sub, compromised_entity="vm-test-01")
    make_alert(p.sub, compromised_entity="vm-test-01")
    with django_capture_on_commit_callbacks(execute=True):
        correlate(subscription_id=p.sub.pk)
    incident = IncidentAlert.objects.get(alert=first).incident
    assert not incident.standalone and incident.alert_count == 2
    (headers, body), = receiver.requests
    assert verify(headers, body)
    data = json.loads(body)["data"]
    assert data["incident_id"] == incident.pk and data["alert_count"] == incident.alert_count


def test_the_api_manages_webhooks_with_the_admin_scope(p, client, receiver):
    from inventory.roles import Scope
    from tests.conftest import make_token

    admin = make_token(p.sub, user=p.admin, scopes=[Scope.ADMIN])
    act = make_token(p.sub, user=p.lead, scopes=[Scope.ACT, Scope.READ])
    body = {"name": "soar", "url": "https://hooks.example.com/soc", "secret": SECRET,
            "events": ["address.blocked"]}
    assert client.post("/api/v1/webhooks", body, content_type="application/json",
                       **act.header).status_code == 403
    made = client.post("/api/v1/webhooks", body, content_type="application/json",
                       **admin.header)
    assert made.status_code == 201 and "secret" not in made.json()
    bad = client.post("/api/v1/webhooks", {**body, "url": "file:///etc/passwd"},
                      content_type="application/json", **admin.header)
    assert bad.status_code == 400 and "http:// or https://" in bad.json()["error"]["message"]
    assert [h["name"] for h in client.get("/api/v1/webhooks", **admin.header)
            .json()["webhooks"]] == ["soar"]
    assert client.get("/api/v1/webhook-deliveries", **admin.header).json() == {"deliveries": []}
    hook_id = made.json()["id"]
    assert client.delete(f"/api/v1/webhooks/{hook_id}", **admin.header).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{hook_id}", **admin.header).status_code == 404
