"""What the workspace's security events say about a host, an account or an IP.

Every question is a small Kusto query run by the search engine (`search.runs.run_now`),
so what the map and the pane show is what a search for the same thing shows; the query
is kept with the rows, and "Search events for this" opens the search page with it.
Entity values come from attackers: they only ever enter a query as a verbatim string
literal (@"…", where the only special character, the double quote, is doubled).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from inventory.models import Workspace
from search.kql import KqlError
from search.runs import SearchError, run_now

WINDOW = timedelta(days=30)
ROW_LIMIT = 100
EVENT_KINDS = ("host", "account", "ip")


def literal(value):
    """A Kusto verbatim string literal holding `value` exactly."""
    return '@"' + str(value).replace('"', '""') + '"'


def host_names(label, props=None):
    """The names a host may have in events: its label, HostName, and HostName.DnsDomain."""
    props = props or {}
    names = [label, props.get("HostName"), props.get("NetBiosName")]
    if props.get("HostName") and props.get("DnsDomain"):
        names.append(f"{props['HostName']}.{props['DnsDomain']}")
    out = []
    for n in names:
        if isinstance(n, str) and n.strip() and n.strip().lower() not in \
                [o.lower() for o in out]:
            out.append(n.strip())
    return out[:4]


def account_names(label, props=None):
    props = props or {}
    names = [label]
    if props.get("Name") and props.get("NTDomain"):
        names.append(f"{props['NTDomain']}\\{props['Name']}")
    out = []
    for n in names:
        if isinstance(n, str) and n.strip() and n.strip().lower() not in \
                [o.lower() for o in out]:
            out.append(n.strip())
    return out[:3]


def where(kind, label, props=None):
    """The Kusto condition that picks a host's, an account's or an IP's events."""
    if kind == "host":
        parts = []
        for name in host_names(label, props):
            parts.append(f"Computer =~ {literal(name)}")
            if "." not in name:
                parts.append(f"Computer startswith {literal(name + '.')}")
        return " or ".join(parts)
    if kind == "account":
        parts = [f"Account =~ {literal(n)}" for n in account_names(label, props)]
        if "\\" not in label and "@" not in label:
            parts.append("Account endswith " + literal("\\" + label))
        return " or ".join(parts)
    if kind == "ip":
        return f"IpAddress == {literal(label.strip())}"
    return None


def search_query(kind, label, props=None):
    """The query "Search events for this" prefills, or None for kinds events do not name."""
    condition = where(kind, label, props)
    if condition:
        return (f"SecurityEvent\n| where {condition}\n"
                "| project TimeGenerated, Computer, EventID, Activity, Account, IpAddress, "
                "CommandLine\n| sort by TimeGenerated desc\n| take 100")
    if kind == "process":
        return ("SecurityEvent\n| where EventID == 4688 and CommandLine == "
                f"{literal(label)}\n| project TimeGenerated, Computer, Account, "
                "NewProcessName, CommandLine, ParentProcessName\n| sort by TimeGenerated desc")
    if kind == "file":
        name = (props or {}).get("Name") or label
        return ("SecurityEvent\n| where NewProcessName endswith "
                f"{literal(name)} or CommandLine has {literal(name)}\n"
                "| project TimeGenerated, Computer, Account, NewProcessName, CommandLine\n"
                "| sort by TimeGenerated desc")
    return None


@dataclass
class Rows:
    query: str
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    truncated: bool = False
    error: str = ""

    def records(self):
        names = [c["name"] for c in self.columns]
        return [dict(zip(names, r, strict=True)) for r in self.rows]


def workspace_of(subscription_id):
    return Workspace.objects.filter(subscription_id=subscription_id)\
        .order_by("-is_default", "name").first()


def run(workspace, query, limit=ROW_LIMIT):
    """Rows of `query` on `workspace` over the last 30 days; an error is kept, not raised."""
    if workspace is None:
        return Rows(query, error="This subscription has no workspace.")
    now = timezone.now()
    try:
        columns, rows, truncated = run_now(workspace, query, time_range=(now - WINDOW, now),
                                           row_limit=limit)
    except (KqlError, SearchError) as exc:
        return Rows(query, error=getattr(exc, "message", None) or str(exc))
    return Rows(query, columns, rows, truncated)


# The questions the pane's tabs and the map's expansion ask.

def logons(workspace, kind, label, props=None):
    return run(workspace, f"SecurityEvent\n| where ({where(kind, label, props)}) and EventID "
                          "in (4624, 4625)\n| project TimeGenerated, Computer, EventID, Account, "
                          "IpAddress, LogonType\n| sort by TimeGenerated desc")


def processes(workspace, label, props=None):
    return run(workspace, f"SecurityEvent\n| where ({where('host', label, props)}) and "
                          "EventID == 4688\n| project TimeGenerated, Account, NewProcessName, "
                          "CommandLine, ParentProcessName\n| sort by TimeGenerated desc")


def network(workspace, kind, label, props=None):
    """Addresses a host talked to (or hosts an IP reached), with counts."""
    by = "IpAddress" if kind == "host" else "Computer"
    return run(workspace, f"SecurityEvent\n| where ({where(kind, label, props)}) and "
                          "isnotempty(IpAddress) and IpAddress != \"-\"\n"
                          f"| summarize Events = count(), Failures = countif(EventID == 4625), "
                          f"Last = max(TimeGenerated) by {by}\n| sort by Events desc")


def hosts_of_account(workspace, label, props=None):
    return run(workspace, f"SecurityEvent\n| where {where('account', label, props)}\n"
                          "| summarize Events = count(), Logons = countif(EventID == 4624), "
                          "Last = max(TimeGenerated) by Computer\n| sort by Events desc")


def successful_logons(workspace, kind, label, props=None, limit=60):
    """(Account, Computer, IpAddress, count) of the successful logons that involve it."""
    return run(workspace, f"SecurityEvent\n| where ({where(kind, label, props)}) and "
                          "EventID == 4624\n| summarize Logons = count(), Last = "
                          "max(TimeGenerated) by Account, Computer, IpAddress\n"
                          "| sort by Logons desc, Account asc, Computer asc, IpAddress asc",
               limit=limit)


def started_processes(workspace, label, props=None, limit=30):
    return run(workspace, f"SecurityEvent\n| where ({where('host', label, props)}) and "
                          "EventID == 4688 and isnotempty(NewProcessName)\n"
                          "| summarize Runs = count(), Last = max(TimeGenerated) by "
                          "NewProcessName, Computer\n| sort by Runs desc, NewProcessName asc",
               limit=limit)
