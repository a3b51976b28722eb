"""The indicators page and API: import, list, export, delete, and who may."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from detections.models import Indicator
from inventory.roles import Scope
from tests.conftest import make_token
from tests.detections.test_indicators import bundle


def url(p, name, **kwargs):
    return reverse(f"detections:{name}", kwargs={"sub": p.sub.pk, **kwargs})


def test_a_lead_imports_a_bundle_and_sees_the_report(p, as_user):
    client = as_user(p.lead)
    upload = SimpleUploadedFile("cti.json", bundle(
        "[ipv4-addr:value = '203.0.113.87']", "[network-traffic:dst_port = 1]"))
    page = client.post(url(p, "import"), {"file": upload, "source": "partner feed"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "<strong>1</strong> created" in text and "network-traffic:dst_port" in text
    assert "203.0.113.87" in client.get(url(p, "indicators")).content.decode()
    exported = json.loads(client.get(url(p, "export")).content)
    assert [o["pattern"] for o in exported["objects"]] == ["[ipv4-addr:value = '203.0.113.87']"]


def test_a_file_that_is_not_a_bundle_says_why(p, as_user):
    page = as_user(p.lead).post(url(p, "import"),
                                {"file": SimpleUploadedFile("x.json", b"{oops")})
    assert page.status_code == 400 and "The file is not JSON" in page.content.decode()
    page = as_user(p.lead).post(url(p, "import"), {})
    assert page.status_code == 400 and "Choose a STIX 2.1 bundle" in page.content.decode()


def test_who_may(p, as_user):
    upload = SimpleUploadedFile("x.json", bundle("[ipv4-addr:value = '203.0.113.87']"))
    assert as_user(p.analyst).post(url(p, "import"), {"file": upload}).status_code == 403
    assert as_user(p.analyst).get(url(p, "indicators")).status_code == 200
    assert as_user(p.outsider).get(url(p, "indicators")).status_code == 404
    assert as_user(p.outsider).get(url(p, "export")).status_code == 404
    assert not Indicator.objects.exists()


def test_hostile_descriptions_are_escaped(p, as_user):
    as_user(p.lead).post(url(p, "import"), {"file": SimpleUploadedFile("x.json", bundle(
        "[domain-name:value = 'evil.example']", description="<script>window.x=1</script>"))})
    page = as_user(p.analyst).get(url(p, "indicators")).content.decode()
    assert "<script>window.x" not in page and "&lt;script&gt;" in page


def test_the_api_imports_lists_and_deletes(p, client):
    act = make_token(p.sub, user=p.lead, scopes=[Scope.ACT, Scope.READ])
    read = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    made = client.post("/api/v1/indicators?source=api", bundle(
        "[ipv4-addr:value = '203.0.113.87']", "[url:value = 'gopher://x']"),
        content_type="application/json", **act.header)
    assert made.status_code == 200
    assert made.json()["created"] == 1 and len(made.json()["refused"]) == 1
    csv_body = b"type,value\ndomain,evil.example\n"
    assert client.post("/api/v1/indicators", csv_body, content_type="text/csv",
                       **act.header).json()["created"] == 1
    listed = client.get("/api/v1/indicators?type=ip", **read.header).json()["indicators"]
    assert [(i["value"], i["source"]) for i in listed] == [("203.0.113.87", "Contoso CTI")]
    assert client.post("/api/v1/indicators", b"{", content_type="application/json",
                       **act.header).status_code == 400
    assert client.post("/api/v1/indicators", bundle("[ipv4-addr:value = '203.0.113.1']"),
                       content_type="application/json", **read.header).status_code == 403
    ident = listed[0]["id"]
    assert client.delete(f"/api/v1/indicators/{ident}", **read.header).status_code == 403
    assert client.delete(f"/api/v1/indicators/{ident}", **act.header).status_code == 204
    assert not Indicator.objects.filter(pk=ident).exists()
