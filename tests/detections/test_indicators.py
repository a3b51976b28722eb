"""Indicators: STIX 2.1 bundles (good, bad and mixed), CSV, re-import, export."""

import json

import pytest
import stix2

from detections.indicators import (
    IndicatorError,
    active,
    export_bundle,
    import_file,
    normalise,
    read_stix,
)
from detections.models import Indicator
from inventory.activity import Actor

SHA = "a" * 64


def bundle(*patterns, **extra):
    objects = [{"type": "identity", "spec_version": "2.1",
                "id": "identity--11111111-1111-4111-8111-111111111111",
                "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
                "name": "Contoso CTI", "identity_class": "organization"}]
    for n, pattern in enumerate(patterns):
        objects.append({
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
            "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
            "created_by_ref": "identity--11111111-1111-4111-8111-111111111111",
            "name": f"IOC {n}", "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", "confidence": 80,
            "indicator_types": ["malicious-activity"], **extra})
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
                       "objects": objects}).encode()


def lead_imports(p, body, filename="iocs.json", **kwargs):
    return import_file(p.sub, body, filename=filename, actor=Actor.of_user(p.lead),
                       role="shift_lead", **kwargs)


def test_it_reads_every_supported_pattern(p):
    report = lead_imports(p, bundle(
        "[ipv4-addr:value = '203.0.113.87']",
        "[ipv4-addr:value = '198.51.100.0/24'] OR [ipv6-addr:value = '2001:DB8::1']",
        "[domain-name:value = 'Evil.Example.']",
        "[url:value = 'HTTP://Evil.Example/payload?x=1']",
        f"[file:hashes.'SHA-256' = '{SHA.upper()}']",
        "[file:hashes.MD5 = '" + "b" * 32 + "']",
        "[user-account:account_login = 'SVC-Backup']"))

    assert report.refused == [] and report.created == 8
    got = set(Indicator.objects.values_list("type", "value"))
    assert got == {("ip", "203.0.113.87"), ("ip", "198.51.100.0/24"), ("ip", "2001:db8::1"),
                   ("domain", "evil.example"), ("url", "http://evil.example/payload?x=1"),
                   ("sha256", SHA), ("md5", "b" * 32), ("account", "svc-backup")}
    one = Indicator.objects.get(value="203.0.113.87")
    assert (one.source, one.confidence, one.severity) == ("Contoso CTI", 80, "high")
    assert one.stix_id.startswith("indicator--")


def test_a_mixed_bundle_keeps_the_good_and_reports_each_bad_one(p):
    report = lead_imports(p, bundle(
        "[ipv4-addr:value = '203.0.113.87']",
        "[ipv4-addr:value = '203.0.113.1'] AND [domain-name:value = 'x.example']",
        "[network-traffic:dst_port = 4444]",
        "[ipv4-addr:value != '203.0.113.2']",
        "[ipv4-addr:value = '203.0.113.3'] WITHIN 300 SECONDS",
        "[ipv4-addr:value = ",
        "[ipv4-addr:value = 'not-an-address']"))

    assert report.created == 1
    reasons = [reason for _, reason in report.refused]
    assert len(reasons) == 6
    assert "AND between observations is not supported" in reasons[0]
    assert "network-traffic:dst_port is not a property" in reasons[1]
    assert "operator '!=' is not supported" in reasons[2]
    assert "qualifiers" in reasons[3]
    assert "Invalid value for Indicator 'pattern'" in reasons[4]  # stix2 checks it first
    assert "is not an IP address" in reasons[5]
    assert all(where.startswith("indicator--") for where, _ in report.refused)


def test_a_bad_stix_object_is_reported_by_the_stix2_library(p):
    raw = json.loads(bundle("[ipv4-addr:value = '203.0.113.87']"))
    del raw["objects"][1]["pattern"]
    report = lead_imports(p, json.dumps(raw).encode())
    assert report.created == 0
    assert "not a valid STIX 2.1 indicator" in report.refused[0][1]
    assert "pattern" in report.refused[0][1]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not JSON"),
    (b'{"type": "report"}', "not a STIX 2.1 bundle"),
    (b"[1, 2]", "not a STIX 2.1 bundle"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_what_is_not_a_bundle_is_refused_whole(body, message):
    with pytest.raises(IndicatorError, match=message):
        read_stix(body)


def test_a_reimport_updates_and_never_duplicates(p):
    lead_imports(p, bundle("[ipv4-addr:value = '203.0.113.87']"))
    report = lead_imports(p, bundle("[ipv4-addr:value = '203.0.113.87']",
                                    description="now with a description"))
    assert (report.created, report.updated) == (0, 1)
    assert Indicator.objects.get().description == "now with a description"


def test_csv_with_its_header_and_bad_lines_reported(p):
    body = (b"type,value,severity,confidence,source,description,tags,valid_from,valid_until\n"
            b"ip,203.0.113.87,high,90,honeypot,RDP brute force,\"rdp;bruteforce\",,\n"
            b"domain,evil.example,,,,,,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z\n"
            b"sha256,zzz,,,,,,,\n"
            b"colour,blue,,,,,,,\n"
            b"ip,203.0.113.9,urgent,,,,,,\n")
    report = lead_imports(p, body, filename="iocs.csv")
    assert (report.created, len(report.refused)) == (2, 3)
    assert [where for where, _ in report.refused] == ["line 4", "line 5", "line 6"]
    assert "not a SHA256 hash" in report.refused[0][1]
    ip = Indicator.objects.get(type="ip")
    assert (ip.severity, ip.confidence, ip.tags) == ("high", 90, ["bruteforce", "rdp"])
    assert active(p.sub.pk).count() == 1  # the domain expired on 2026-02-01


@pytest.mark.parametrize("body, message", [
    (b"value\n203.0.113.1\n", "type and value required"),
    (b"type,value,colour\nip,203.0.113.1,red\n", "Unknown column 'colour'"),
    (b"\xc2\xa3\rW2P\xc3\xa9", "type and value required"),
])
def test_a_csv_without_its_header_is_refused(p, body, message):
    with pytest.raises(IndicatorError, match=message):
        lead_imports(p, body, filename="x.csv")


def test_a_nul_in_a_value_is_refused_on_its_line(p):
    report = lead_imports(p, b"type,value\nip,203.0.113.1\x00\n", filename="x.csv")
    assert report.created == 0 and report.refused == [("line 2", "value: NUL characters "
                                                                  "are not allowed.")]


def test_analysts_may_not_import(p):
    with pytest.raises(IndicatorError, match="Only shift leads and admins"):
        import_file(p.sub, bundle("[ipv4-addr:value = '203.0.113.87']"), filename="x.json",
                    actor=Actor.of_user(p.analyst), role="analyst")


def test_the_export_is_a_stix_bundle_that_imports_back(p):
    lead_imports(p, bundle("[ipv4-addr:value = '203.0.113.87']",
                           "[domain-name:value = 'evil.example']",
                           f"[file:hashes.'SHA-256' = '{SHA}']"))
    exported = export_bundle(p.sub.pk)
    parsed = stix2.parse(exported, allow_custom=True)
    assert sorted(o.pattern for o in parsed.objects) == sorted([
        "[domain-name:value = 'evil.example']", "[file:hashes.'SHA-256' = '" + SHA + "']",
        "[ipv4-addr:value = '203.0.113.87']"])
    report = import_file(p.other, exported.encode(), filename="x.json",
                         actor=Actor.of_user(p.outsider), role="admin")
    assert report.created == 3 and report.refused == []


@pytest.mark.parametrize("kind, value, expected", [
    ("ip", "203.0.113.7/32", "203.0.113.7"),
    ("ip", "10.1.2.3/8", "10.0.0.0/8"),
    ("domain", "BÜCHER.example", "xn--bcher-kva.example"),
    ("account", "CONTOSO\\Alice", "contoso\\alice"),
])
def test_values_are_normalised(kind, value, expected):
    assert normalise(kind, value) == expected


def test_every_address_is_not_an_indicator():
    with pytest.raises(IndicatorError, match="every address"):
        normalise("ip", "0.0.0.0/0")


def test_the_command_imports_and_reports(p, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    good = tmp_path / "cti.json"
    good.write_bytes(bundle("[ipv4-addr:value = '203.0.113.87']",
                            "[network-traffic:dst_port = 1]"))
    call_command("import_indicators", "--subscription", "Contoso", str(good))
    out = capsys.readouterr().out
    assert "cti.json: 1 created, 0 updated, 1 refused" in out
    assert "network-traffic:dst_port is not a property" in out
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(CommandError, match="Some files were not read"):
        call_command("import_indicators", "--subscription", "Contoso", str(bad))
    assert "bad.json: The file is not JSON" in capsys.readouterr().err
