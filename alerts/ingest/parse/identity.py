"""Identifiers and labels of entity mentions (FORMATS.md, "Entity identity").

Each identifier is "<kind>|<id-type>|<value>[|<value>...]" with values
stripped and lower-cased (command lines keep their case, times are ISO UTC
to the second). A mention carries every strong identifier it has; weak ones
(names) only merge when nothing contradicts. The "host part" of a process,
file, logon session or host-tied account is the host's AzureID if it has one,
else its HostName (or NetBiosName), so one process in two alerts gets one id.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from .model import EntityMention, RelationMention
from .values import iso_second

# Domain (S-1-5-21-a-b-c-rid) and Entra ID (S-1-12-1-...) SIDs identify one account;
# well-known ones (S-1-5-18, S-1-5-32-544, S-1-1-0 ...) and non-Windows ids do not.
_UNIQUE_SID = re.compile(r"^s-1-(5-21-\d+-\d+-\d+|12-1-\d+-\d+-\d+)-\d+$")
MAX_LABEL = 200


def value(props: dict, key: str) -> str:
    raw = props.get(key)
    if isinstance(raw, bool) or raw is None:
        return ""
    if isinstance(raw, int | float | str):
        return str(raw).strip()
    return ""


def low(props: dict, key: str) -> str:
    return value(props, key).lower()


def is_unique_sid(sid: str) -> bool:
    return bool(_UNIQUE_SID.match(sid.strip().lower()))


def normalise_ip(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return address.strip().lower()


def normalise_dir(directory: str) -> str:
    folded = directory.strip().lower()
    trimmed = folded.rstrip("/\\")
    return trimmed or folded[:1]


def normalise_pid(pid: str) -> str:
    try:
        return str(int(pid, 0)) if pid.lower().startswith("0x") else str(int(pid))
    except ValueError:
        return pid.lower()


class Links:
    """Resolved relations of one alert, for host parts and labels."""

    def __init__(self, mentions: list[EntityMention], relations: list[RelationMention]):
        self.mentions = mentions
        # Indexed both ways: a linear scan per mention is quadratic on big alerts.
        self.by_source: dict[int, list[RelationMention]] = {}
        self.by_target: dict[int, list[RelationMention]] = {}
        for r in relations:
            if r.target is not None:
                self.by_source.setdefault(r.source, []).append(r)
                self.by_target.setdefault(r.target, []).append(r)
        hosts = [m.index for m in mentions if m.kind == "host"]
        self.sole_host = hosts[0] if len(hosts) == 1 else None

    def targets(self, source: int, kind: str) -> list[int]:
        return [r.target for r in self.by_source.get(source, ())
                if self.mentions[r.target].kind == kind]

    def sources(self, target: int, kind: str, rel_type: str) -> list[int]:
        return [r.source for r in self.by_target.get(target, ())
                if r.type == rel_type and self.mentions[r.source].kind == kind]

    def explicit_host(self, index: int) -> int | None:
        hosts = self.targets(index, "host")
        return hosts[0] if hosts else None

    def host(self, index: int) -> int | None:
        """The host of a process, file or logon session; the alert's only host by default."""
        found = self.explicit_host(index)
        if self.mentions[index].kind == "file":
            for process in self.sources(index, "process", "image"):
                found = found if found is not None else self.explicit_host(process)
        return self.sole_host if found is None else found

    def account_host(self, index: int) -> int | None:
        """The host an account is tied to, by its own link or its process/session's."""
        found = self.explicit_host(index)
        users = self.sources(index, "process", "runs_as") + \
            self.sources(index, "host-logon-session", "session_account")
        for user in users:
            found = found if found is not None else self.explicit_host(user)
        return found

    def host_part(self, host: int | None) -> str:
        if host is None:
            return ""
        props = self.mentions[host].props
        # The name first: most alerts name a host, few carry its AzureID.
        return low(props, "HostName") or low(props, "NetBiosName") or low(props, "AzureID")


Ids = tuple[list[str], list[str]]


def _host(props: dict, links: Links, index: int) -> Ids:
    strong = [f"host|{tag}|{low(props, key)}" for key, tag in
              (("AzureID", "azureid"), ("OMSAgentID", "omsagentid")) if low(props, key)]
    names = [low(props, "HostName"), low(props, "NetBiosName")]
    for name in filter(None, names):
        for key, tag in (("DnsDomain", "dnsdomain"), ("NTDomain", "ntdomain")):
            if low(props, key):
                strong.append(f"host|name-{tag}|{name}|{low(props, key)}")
    return strong, [f"host|name|{name}" for name in names if name]


def _account(props: dict, links: Links, index: int) -> Ids:
    name = low(props, "Name")
    strong = [f"account|aaduserid|{low(props, 'AadUserId')}"] if low(props, "AadUserId") else []
    if is_unique_sid(low(props, "Sid")):
        strong.append(f"account|sid|{low(props, 'Sid')}")
    for key, tag in (("UPNSuffix", "upn"), ("NTDomain", "ntdomain"), ("DnsDomain", "dnsdomain")):
        if name and low(props, key):
            strong.append(f"account|name-{tag}|{name}|{low(props, key)}")
    strong += [f"account|{key.lower()}|{low(props, key)}" for key in ("PUID", "ObjectGuid")
               if low(props, key)]
    if not name:
        return strong, []
    host = links.host_part(links.account_host(index))
    return strong, [f"account|name|{name}|{host}" if host else f"account|name|{name}"]


def _ip(props: dict, links: Links, index: int) -> Ids:
    address = value(props, "Address")
    return ([f"ip|address|{normalise_ip(address)}"] if address else []), []


def _url(props: dict, links: Links, index: int) -> Ids:
    url = value(props, "Url")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return [], []
    if not (parts.scheme and parts.netloc):
        return [], []
    rest = url[len(parts.scheme) + 3 + len(parts.netloc):]
    return [f"url|url|{parts.scheme.lower()}://{parts.netloc.lower()}{rest}"], []


def _dns(props: dict, links: Links, index: int) -> Ids:
    domain = low(props, "DomainName").rstrip(".")
    return ([f"dns|domain|{domain}"] if domain else []), []


def _file(props: dict, links: Links, index: int) -> Ids:
    name, directory = low(props, "Name"), low(props, "Directory")
    if not name:
        return [], []
    strong = []
    if directory:
        host = links.host_part(links.host(index))
        strong.append(f"file|path|{normalise_dir(directory)}|{name}|{host}")
    return strong, [f"file|name|{name}"]


def _filehash(props: dict, links: Links, index: int) -> Ids:
    algorithm = low(props, "Algorithm").replace("-", "")
    digest = low(props, "Value")
    return ([f"filehash|{algorithm}|{digest}"] if algorithm and digest else []), []


def _process(props: dict, links: Links, index: int) -> Ids:
    created = value(props, "CreationTimeUtc")
    if not created:
        return [], []  # ProcessId alone (a parent known by its id) is never merged
    created, host = iso_second(created), links.host_part(links.host(index))
    strong = []
    if value(props, "ProcessId"):
        pid = normalise_pid(value(props, "ProcessId"))
        strong.append(f"process|pid-time-host|{pid}|{created}|{host}")
    if value(props, "CommandLine"):
        strong.append(f"process|cmd-time-host|{value(props, 'CommandLine')}|{created}|{host}")
    return strong, []


def _registry_key(props: dict, links: Links, index: int) -> Ids:
    hive, key = low(props, "Hive"), low(props, "Key")
    return ([f"registry-key|hive-key|{hive}|{key}"] if hive and key else []), []


def _registry_value(props: dict, links: Links, index: int) -> Ids:
    keys = links.targets(index, "registry-key")
    name = low(props, "Name")
    if not keys or not name:
        return [], []
    key_props = links.mentions[keys[0]].props
    hive, key = low(key_props, "Hive"), low(key_props, "Key")
    return ([f"registry-value|key-name|{hive}|{key}|{name}"] if hive and key else []), []


def _single(kind: str, tag: str, key: str) -> Callable[[dict, Links, int], Ids]:
    def identify(props: dict, links: Links, index: int) -> Ids:
        found = low(props, key)
        return ([f"{kind}|{tag}|{found}"] if found else []), []
    return identify


def _malware(props: dict, links: Links, index: int) -> Ids:
    name, category = low(props, "Name"), low(props, "Category")
    return ([f"malware|name-category|{name}|{category}"] if name and category else []), []


def _session(props: dict, links: Links, index: int) -> Ids:
    session, started = low(props, "SessionId"), value(props, "StartTimeUtc")
    if not (session and started):
        return [], []
    host = links.host_part(links.host(index))
    return [f"host-logon-session|session-host-time|{session}|{host}|{iso_second(started)}"], []


IDENTIFIERS: dict[str, Callable[[dict, Links, int], Ids]] = {
    "host": _host, "account": _account, "ip": _ip, "url": _url, "dns": _dns, "file": _file,
    "filehash": _filehash, "process": _process, "registry-key": _registry_key,
    "registry-value": _registry_value, "malware": _malware, "host-logon-session": _session,
    "azure-resource": _single("azure-resource", "resourceid", "ResourceId"),
    "mailbox": _single("mailbox", "address", "MailboxPrimaryAddress"),
}


def assign_identities(mentions: list[EntityMention], relations: list[RelationMention]) -> None:
    """Fill `strong_ids`, `weak_ids` and `label` of every mention, in place."""
    links = Links(mentions, relations)
    for mention in mentions:
        identify = IDENTIFIERS.get(mention.kind) if mention.known else None
        if identify is not None:
            strong, weak = identify(mention.props, links, mention.index)
            mention.strong_ids = list(dict.fromkeys(strong))
            mention.weak_ids = list(dict.fromkeys(weak))
        mention.label = label(mention, links)[:MAX_LABEL]


def _account_label(props: dict) -> str:
    name = value(props, "Name")
    if name and value(props, "NTDomain"):
        return f"{value(props, 'NTDomain')}\\{name}"
    if name and value(props, "UPNSuffix"):
        return f"{name}@{value(props, 'UPNSuffix')}"
    return name or value(props, "UserPrincipalName") or value(props, "Sid") or \
        value(props, "AadUserId")


def _process_label(mention: EntityMention, links: Links) -> str:
    props = mention.props
    images = links.targets(mention.index, "file")
    image = value(links.mentions[images[0]].props, "Name") if images else ""
    pid = value(props, "ProcessId")
    return value(props, "CommandLine") or image or (f"process {pid}" if pid else "")


_LABEL_KEYS = {
    "host": ("HostName", "NetBiosName", "AzureID"), "ip": ("Address",), "url": ("Url",),
    "dns": ("DomainName",), "file": ("Name", "Directory"), "filehash": ("Value",),
    "registry-key": ("Key",), "registry-value": ("Name",), "azure-resource": ("ResourceId",),
    "mailbox": ("MailboxPrimaryAddress", "DisplayName", "Upn"), "malware": ("Name",),
    "host-logon-session": ("SessionId",),
}
_FALLBACK_KEYS = ("Name", "DisplayName", "FriendlyName", "Address", "Url", "Id")


def label(mention: EntityMention, links: Links) -> str:
    """A short human name for the mention."""
    props = mention.props
    if mention.kind == "account":
        found = _account_label(props)
    elif mention.kind == "process":
        found = _process_label(mention, links)
    elif mention.kind == "filehash":
        found = f"{value(props, 'Algorithm')}:{value(props, 'Value')}".strip(":")
    else:
        found = next(filter(None, (value(props, k) for k in _LABEL_KEYS.get(mention.kind, ()))),
                     "")
    if not found:
        found = next(filter(None, (value(props, k) for k in _FALLBACK_KEYS)), "")
    if mention.kind == "host" and found.lower().startswith("/subscriptions/"):
        found = found.rstrip("/").rsplit("/", 1)[-1]
    if mention.kind == "azure-resource":
        found = found.rstrip("/").rsplit("/", 1)[-1]
    return found or mention.kind
