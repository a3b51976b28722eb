"""Indicators of compromise: read from STIX 2.1 bundles (the `stix2` library for the
objects, `stix2-patterns` for their patterns) and from CSV, kept one per subscription, type
and value (a re-import updates), and exported as a STIX 2.1 bundle.

A STIX pattern is kept when it is one comparison, or comparisons joined by OR, each an
equality on a property this console matches:

    [ipv4-addr:value = '198.51.100.7']           ip (also a CIDR: '198.51.100.0/24')
    [ipv6-addr:value = '2001:db8::1']            ip
    [domain-name:value = 'evil.example']         domain
    [url:value = 'http://evil.example/x']        url
    [file:hashes.'SHA-256' = '…']                sha256 (also 'MD5', 'SHA-1')
    [user-account:account_login = 'svc-backup']  account (also user_id)

Anything else (AND, FOLLOWEDBY, qualifiers, other operators or objects) is reported, one
indicator at a time, with the reason; the rest of the bundle is kept.
"""

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import stix2
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows
from socconsole.lib.jsonsafe import describe, loads
from socconsole.lib.queueing import publish_on_commit

from .models import Indicator
from .tasks import retro_hunt

MAX_TEXT = 4000
MAX_ITEMS = 100_000
CSV_HEADER = ("type", "value", "severity", "confidence", "source", "description", "tags",
              "valid_from", "valid_until")
_HASH = {"md5": 32, "sha1": 40, "sha256": 64}
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{0,62}$")
# STIX object path -> the console's type
_STIX_PATHS = {
    ("ipv4-addr", ("value",)): "ip",
    ("ipv6-addr", ("value",)): "ip",
    ("domain-name", ("value",)): "domain",
    ("url", ("value",)): "url",
    ("file", ("hashes", "MD5")): "md5",
    ("file", ("hashes", "SHA-1")): "sha1",
    ("file", ("hashes", "SHA1")): "sha1",
    ("file", ("hashes", "SHA-256")): "sha256",
    ("file", ("hashes", "SHA256")): "sha256",
    ("user-account", ("account_login",)): "account",
    ("user-account", ("user_id",)): "account",
}
_TYPE_TO_STIX = {"domain": "domain-name:value", "url": "url:value",
                 "md5": "file:hashes.'MD5'", "sha1": "file:hashes.'SHA-1'",
                 "sha256": "file:hashes.'SHA-256'", "account": "user-account:account_login"}


class IndicatorError(Exception):
    """An indicator request that cannot be honoured; the message is fit for the user."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    refused: list = field(default_factory=list)  # [(where, reason)]

    def summary(self):
        return (f"{self.created} created, {self.updated} updated, "
                f"{len(self.refused)} refused")


def normalise(kind: str, value: str) -> str:
    """The value as stored and matched; IndicatorError names what is wrong with it."""
    value = (value or "").strip()
    if not value:
        raise IndicatorError("The value is empty.")
    if len(value) > 2048:
        raise IndicatorError("The value is over 2,048 characters.")
    if kind == "ip":
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise IndicatorError(f"{value!r} is not an IP address or CIDR range.") from None
        if network.prefixlen == 0:
            raise IndicatorError(f"{value} is every address: not an indicator.")
        return str(network.network_address) if network.prefixlen == network.max_prefixlen \
            else str(network)
    if kind == "domain":
        domain = value.lower().rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise IndicatorError(f"{value!r} is not a domain name.") from None
        if not _DOMAIN.match(domain):
            raise IndicatorError(f"{value!r} is not a domain name.")
        return domain
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
            raise IndicatorError(f"{value!r} is not an http(s) or ftp URL.")
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                           parts.query, ""))
    if kind in _HASH:
        digest = value.lower()
        if len(digest) != _HASH[kind] or digest.strip("0123456789abcdef"):
            raise IndicatorError(f"{value!r} is not a {kind.upper()} hash "
                                 f"({_HASH[kind]} hexadecimal digits).")
        return digest
    if kind == "account":
        return value.lower()
    raise IndicatorError(f"{kind!r} is not an indicator type: use "
                         f"{', '.join(Indicator.Type.values)}.")


def _may_manage(role):
    if not role_allows(role, Perm.DETECTIONS):
        raise IndicatorError("Only shift leads and admins manage indicators.")


def _clean(item: dict) -> dict:
    """An indicator's fields from an import, checked; IndicatorError says what is wrong."""
    for name, value in item.items():
        if "\x00" in str(value):
            raise IndicatorError(f"{name}: NUL characters are not allowed.")
    kind = str(item.get("type") or "").strip().lower()
    value = normalise(kind, str(item.get("value") or ""))
    severity = str(item.get("severity") or "medium").strip().lower()
    if severity not in Indicator.Severity.values:
        raise IndicatorError(f"severity {severity!r}: use "
                             f"{', '.join(Indicator.Severity.values)}.")
    try:
        confidence = int(item.get("confidence", 50) if item.get("confidence") not in ("", None)
                         else 50)
    except (TypeError, ValueError):
        raise IndicatorError("confidence is a number from 0 to 100.") from None
    if not 0 <= confidence <= 100:
        raise IndicatorError("confidence is a number from 0 to 100.")
    tags = item.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise IndicatorError("tags are a list of texts.")
    times = {}
    for name in ("valid_from", "valid_until"):
        raw = item.get(name)
        if raw in (None, ""):
            times[name] = None
            continue
        moment = raw if isinstance(raw, datetime) else parse_datetime(str(raw).strip())
        if moment is None:
            raise IndicatorError(f"{name} {raw!r} is not an ISO 8601 time.")
        times[name] = moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
    if times["valid_until"] and times["valid_from"] and \
            times["valid_until"] <= times["valid_from"]:
        raise IndicatorError("valid_until is not after valid_from.")
    description = str(item.get("description") or "")
    source = str(item.get("source") or "")
    if len(description) > MAX_TEXT or len(source) > 200:
        raise IndicatorError(f"description is at most {MAX_TEXT:,} characters and source 200.")
    return {"type": kind, "value": value, "severity": severity, "confidence": confidence,
            "tags": sorted({t[:100] for t in tags})[:50], "description": description,
            "source": source, "valid_from": times["valid_from"] or timezone.now(),
            "valid_until": times["valid_until"], "stix_id": str(item.get("stix_id") or "")}


def save_indicators(subscription: Subscription, items, *, actor: Actor, role,
                    report: ImportReport | None = None, where="item") -> ImportReport:
    """Create or update each item (dicts of CSV_HEADER's fields); one refused item is
    reported with its reason and the others kept. Audited once for the import."""
    _may_manage(role)
    report = report or ImportReport()
    cleaned = {}
    for index, item in enumerate(items):
        if len(cleaned) >= MAX_ITEMS:
            report.refused.append((f"{where} {index + 1}", f"more than {MAX_ITEMS:,} "
                                   "indicators in one import"))
            break
        try:
            data = _clean(item)
        except IndicatorError as exc:
            report.refused.append((item.get("_where") or f"{where} {index + 1}", str(exc)))
            continue
        cleaned[(data["type"], data["value"])] = data
    with transaction.atomic():
        existing = {(i.type, i.value): i for i in Indicator.objects.select_for_update().filter(
            subscription=subscription, value__in=[v for _, v in cleaned])}
        fresh, changed = [], []
        label = actor.label[:200]
        for key, data in cleaned.items():
            row = existing.get(key)
            if row is None:
                fresh.append(Indicator(subscription=subscription, updated_by_label=label,
                                       **data))
                continue
            for name, value in data.items():
                setattr(row, name, value)
            row.updated_by_label = label
            changed.append(row)
        Indicator.objects.bulk_create(fresh, batch_size=2000)
        Indicator.objects.bulk_update(changed, [
            "severity", "confidence", "tags", "description", "source", "valid_from",
            "valid_until", "stix_id", "updated_by_label", "updated_at"], batch_size=2000)
        report.created += len(fresh)
        report.updated += len(changed)
        if fresh or changed:
            activity.record(actor=actor, verb="indicators.import", target_type="indicators",
                            target_label=report.summary(), subscription=subscription,
                            after={"created": len(fresh), "updated": len(changed),
                                   "refused": len(report.refused)})
            publish_on_commit(retro_hunt, subscription.pk,
                              later="the next import hunts back again")
    return report


def read_stix(body: bytes | str, default_source: str = "") -> tuple[list, list]:
    """(items, refused) from a STIX 2.1 bundle; IndicatorError if it is not one."""
    try:
        bundle = loads(body)
    except UnicodeDecodeError:
        raise IndicatorError("The file is not UTF-8 text.") from None
    except ValueError as exc:
        raise IndicatorError(f"The file is not JSON: {describe(exc)}") from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or \
            not isinstance(bundle.get("objects"), list):
        raise IndicatorError("This is not a STIX 2.1 bundle: a JSON object with "
                             '"type": "bundle" and a list of "objects".')
    identities = {o.get("id"): o.get("name") for o in bundle["objects"]
                  if isinstance(o, dict) and o.get("type") == "identity"}
    items, refused = [], []
    for index, raw in enumerate(bundle["objects"]):
        if not isinstance(raw, dict) or raw.get("type") != "indicator":
            continue
        where = f"{raw.get('id') or f'object {index + 1}'}"
        try:
            obj = stix2.parse(raw, allow_custom=True, version="2.1")
        except Exception as exc:  # stix2 raises its own errors, and ValueError/TypeError
            refused.append((where, f"not a valid STIX 2.1 indicator: {exc}"[:500]))
            continue
        if obj.get("pattern_type", "stix") != "stix":
            refused.append((where, f"pattern type {obj.pattern_type!r}: only STIX patterns "
                                   "are read"))
            continue
        try:
            comparisons = _comparisons(obj.pattern)
        except IndicatorError as exc:
            refused.append((where, str(exc)))
            continue
        labels = list(obj.get("labels") or []) + list(obj.get("indicator_types") or [])
        for kind, value in comparisons:
            items.append({
                "_where": where, "type": kind, "value": value,
                "description": obj.get("description") or obj.get("name") or "",
                "confidence": obj.get("confidence", 50), "tags": labels,
                "source": identities.get(obj.get("created_by_ref")) or default_source,
                "valid_from": obj.valid_from, "valid_until": obj.get("valid_until"),
                "severity": _severity(labels), "stix_id": obj.id})
    return items, refused


def _severity(labels):
    lowered = {str(label).lower() for label in labels}
    for severity in ("high", "medium", "low", "informational"):
        if severity in lowered:
            return severity
    return "high" if "malicious-activity" in lowered else "medium"


def _comparisons(pattern: str) -> list[tuple[str, str]]:
    try:
        inspected = Pattern(pattern).inspect()
    except ParseException as exc:
        raise IndicatorError(f"the pattern does not parse: {exc}") from None
    if inspected.qualifiers:
        raise IndicatorError("qualifiers (WITHIN, REPEATS, START/STOP) are not supported")
    if inspected.observation_ops - {"OR"}:
        raise IndicatorError(f"{' and '.join(sorted(inspected.observation_ops))} between "
                             "observations is not supported: only OR")
    if " AND " in pattern.upper():
        raise IndicatorError("AND inside an observation is not supported: only OR")
    out = []
    for object_type, tests in inspected.comparisons.items():
        for path, operator, literal in tests:
            path = tuple(str(p) for p in path)
            kind = _STIX_PATHS.get((object_type, path))
            if kind is None:
                raise IndicatorError(f"{object_type}:{'.'.join(path)} is not a property this "
                                     "console matches")
            if operator != "=":
                raise IndicatorError(f"the operator {operator!r} is not supported: only =")
            if not (literal.startswith("'") and literal.endswith("'")):
                raise IndicatorError(f"{literal} is not a string")
            out.append((kind, literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")))
    if not out:
        raise IndicatorError("the pattern compares nothing")
    return out


def read_csv(body: bytes | str) -> tuple[list, list]:
    """(items, refused) from CSV with a header naming CSV_HEADER's columns (type and value
    required)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise IndicatorError("The file is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise IndicatorError(f"The CSV does not parse: {exc}.") from None
    if "type" not in header or "value" not in header:
        raise IndicatorError(f"The first line is the header: {','.join(CSV_HEADER)} (type and "
                             "value required).")
    unknown = [h for h in header if h not in CSV_HEADER]
    if unknown:
        raise IndicatorError(f"Unknown column {unknown[0]!r}: the columns are "
                             f"{','.join(CSV_HEADER)}.")
    reader.fieldnames = header
    items = []
    try:
        for line, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            row["_where"] = f"line {line}"
            items.append(row)
    except csv.Error as exc:
        raise IndicatorError(f"The CSV does not parse: {exc}.") from None
    return items, []


def import_file(subscription: Subscription, body: bytes, *, filename: str, actor: Actor,
                role, source: str = "") -> ImportReport:
    """Import a .json STIX bundle or a .csv file (by its name, else by its first byte)."""
    name = (filename or "").lower()
    is_json = name.endswith(".json") or (not name.endswith(".csv")
                                         and body.lstrip()[:1] in (b"{", b"["))
    items, refused = read_stix(body, source) if is_json else read_csv(body)
    if source:
        for item in items:
            item.setdefault("source", source)
            item["source"] = item.get("source") or source
    report = ImportReport(refused=list(refused))
    return save_indicators(subscription, items, actor=actor, role=role, report=report)


def active(subscription_id: int, now: datetime | None = None):
    return Indicator.objects.active(subscription_id, now)


def delete_indicator(indicator: Indicator, *, actor: Actor, role) -> None:
    _may_manage(role)
    with transaction.atomic():
        activity.record(actor=actor, verb="indicator.delete", target_type="indicator",
                        target_id=indicator.pk, target_label=str(indicator)[:200],
                        subscription_id=indicator.subscription_id,
                        before={"type": indicator.type, "value": indicator.value})
        indicator.delete()


def stix_pattern(indicator: Indicator) -> str:
    value = indicator.value.replace("\\", "\\\\").replace("'", "\\'")
    if indicator.type == "ip":
        family = "ipv6-addr" if ":" in indicator.value else "ipv4-addr"
        return f"[{family}:value = '{value}']"
    return f"[{_TYPE_TO_STIX[indicator.type]} = '{value}']"


def export_bundle(subscription_id: int) -> str:
    """The active indicators as a STIX 2.1 bundle (JSON text)."""
    objects = []
    for indicator in active(subscription_id).order_by("type", "value")[:MAX_ITEMS]:
        objects.append(stix2.Indicator(
            name=f"{indicator.get_type_display()} {indicator.value}"[:250],
            description=indicator.description or None, pattern=stix_pattern(indicator),
            pattern_type="stix", valid_from=indicator.valid_from,
            valid_until=indicator.valid_until, confidence=indicator.confidence,
            labels=indicator.tags or None, allow_custom=True,
            x_soc_severity=indicator.severity))
    return stix2.Bundle(objects=objects, allow_custom=True).serialize(pretty=False) \
        if objects else stix2.Bundle(allow_custom=True).serialize(pretty=False)
