"""The events behind the demo attack (alerts/demo.py), timed relative to now.

On vm-web-01: RDP logon failures from the attacker's address against many account
names, then the successful logon as CONTOSO\\svc-backup, the encoded PowerShell and the
credential dump with comsvcs.dll; around them, ordinary logons and processes, and
syslog noise from the Linux machines. Every demo event carries SourceSystem "Demo" so a
refresh replaces exactly these.
"""

import json
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inventory.models import Workspace
from socconsole.lib.jsonbody import split_body

from . import engine
from .engine import Tenant, ddl
from .ingest import ingest_event_items
from .models import EventDay

ATTACKER = "203.0.113.87"
ACCOUNTS_TRIED = ["administrator", "admin", "user", "test", "guest", "backup", "svc-backup",
                  "sql", "scanner", "support", "operator", "web", "ftp", "oracle", "postgres",
                  "azureuser", "root", "demo", "john", "reception", "it", "helpdesk", "adm",
                  "server", "owner", "student", "sa", "public", "info", "sales", "training",
                  "manager", "office", "user1", "user2", "temp", "install", "remote"]
DUMP_COMMAND = ("rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 "
                "C:\\Windows\\Temp\\lsass.dmp full")
PS_COMMAND = ("powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand "
              "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA")


def _iso(t):
    return t.isoformat().replace("+00:00", "Z")


def _security(at, computer, event_id, **fields):
    account = fields.pop("account", "")
    return {"TimeGenerated": _iso(at), "Computer": computer, "EventID": event_id,
            "Account": account, "SourceSystem": "Demo", "Channel": "Security",
            "EventSourceName": "Microsoft-Windows-Security-Auditing", **fields}


def _logon_fields(domain, user, ip, logon_type):
    return {"account": f"{domain}\\{user}", "TargetUserName": user, "TargetDomainName": domain,
            "IpAddress": ip, "IpPort": "0", "LogonType": logon_type,
            "LogonTypeName": {3: "3 - Network", 10: "10 - RemoteInteractive",
                              2: "2 - Interactive"}[logon_type]}


def security_events(now):
    rng = random.Random(20261128)
    t0 = now - timedelta(hours=3)
    web = "vm-web-01.contoso.local"
    events = []
    # The brute force: 20 minutes of failures from one address against 38 names.
    for i in range(190):
        at = t0 + timedelta(seconds=i * 6 + rng.randint(0, 5))
        user = ACCOUNTS_TRIED[i % len(ACCOUNTS_TRIED)]
        events.append(_security(
            at, web, 4625, Activity="4625 - An account failed to log on.",
            Status="0xc000006d", SubStatus="0xc000006a" if user == "svc-backup" else
            "0xc0000064", FailureReason="%%2313", WorkstationName="kali",
            AuthenticationPackageName="NTLM", LogonProcessName="NtLmSsp",
            **_logon_fields("CONTOSO", user, ATTACKER, 10)))
    events.append(_security(
        t0 + timedelta(minutes=27), web, 4624,
        Activity="4624 - An account was successfully logged on.", WorkstationName="kali",
        AuthenticationPackageName="NTLM", LogonProcessName="NtLmSsp", TargetLogonId="0x3e7a11",
        ElevatedToken="%%1842", **_logon_fields("CONTOSO", "svc-backup", ATTACKER, 10)))
    for minutes, command, image, parent, pid in [
            (31, "C:\\Windows\\explorer.exe", "C:\\Windows\\explorer.exe",
             "C:\\Windows\\System32\\userinit.exe", "0xf10"),
            (48, PS_COMMAND, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
             "C:\\Windows\\explorer.exe", "0x1a2c"),
            (63, DUMP_COMMAND, "C:\\Windows\\System32\\rundll32.exe",
             "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "0x2b48")]:
        events.append(_security(
            t0 + timedelta(minutes=minutes), web, 4688,
            Activity="4688 - A new process has been created.", account="CONTOSO\\svc-backup",
            SubjectUserName="svc-backup", SubjectDomainName="CONTOSO",
            SubjectLogonId="0x3e7a11", CommandLine=command, NewProcessName=image,
            NewProcessId=pid, ParentProcessName=parent, TokenElevationType="%%1937"))
    # Ordinary life around it: people logging on, services starting processes.
    people = ["alice.ng", "bob.okafor", "chen.li", "dana.ross", "svc-deploy"]
    for i in range(60):
        at = now - timedelta(hours=24) + timedelta(minutes=i * 23 + rng.randint(0, 20))
        computer = rng.choice([web, "vm-web-02.contoso.local", "vm-dc-01.contoso.local"])
        user = rng.choice(people)
        events.append(_security(
            at, computer, 4624, Activity="4624 - An account was successfully logged on.",
            AuthenticationPackageName="Kerberos", LogonProcessName="Kerberos",
            **_logon_fields("CONTOSO", user, f"10.0.1.{rng.randint(10, 60)}", 3)))
        if i % 3 == 0:
            events.append(_security(
                at + timedelta(seconds=40), computer, 4688,
                Activity="4688 - A new process has been created.",
                account=f"CONTOSO\\{user}", SubjectUserName=user, SubjectDomainName="CONTOSO",
                CommandLine=rng.choice(["C:\\Windows\\System32\\svchost.exe -k netsvcs",
                                        "C:\\Windows\\System32\\taskhostw.exe",
                                        "\"C:\\Program Files\\IIS\\w3wp.exe\" -ap orders"]),
                NewProcessName="C:\\Windows\\System32\\svchost.exe",
                ParentProcessName="C:\\Windows\\System32\\services.exe"))
    for i in range(6):
        user = rng.choice(people)
        events.append(_security(
            now - timedelta(hours=20 - i * 3), "vm-dc-01.contoso.local", 4625,
            Activity="4625 - An account failed to log on.", Status="0xc000006d",
            SubStatus="0xc000006a", **_logon_fields("CONTOSO", user, "10.0.1.23", 3)))
    return events


def syslog_events(now):
    rng = random.Random(7)
    events = []
    hosts = ["vm-web-02", "vm-build-01", "vm-web-02"]
    for i in range(150):
        at = now - timedelta(hours=24) + timedelta(minutes=i * 9 + rng.randint(0, 8))
        host = rng.choice(hosts)
        kind = i % 5
        if kind == 0 and i % 2:
            row = ("authpriv", "notice", "sudo",
                   "deploy : TTY=pts/0 ; PWD=/srv/app ; USER=root ; COMMAND=/usr/bin/systemctl "
                   "restart orders-api")
        elif kind == 0:
            row = ("authpriv", "info", "sudo",
                   "pam_unix(sudo:session): session opened for user root(uid=0) by "
                   "deploy(uid=1001)")
        elif kind == 1:
            row = ("authpriv", "info", "sshd",
                   f"Accepted publickey for deploy from 10.0.1.{rng.randint(10, 60)} port "
                   f"{rng.randint(40000, 60000)} ssh2")
        elif kind == 2:
            row = ("cron", "info", "CRON", "(root) CMD (/usr/lib/php/sessionclean)")
        elif kind == 3:
            row = ("authpriv", "warning", "sshd",
                   f"Failed password for invalid user admin from 192.0.2.{rng.randint(1, 250)} "
                   f"port {rng.randint(40000, 60000)} ssh2")
        else:
            row = ("daemon", "info", "systemd", "Started Daily apt upgrade and clean activities.")
        facility, severity, process, message = row
        events.append({"TimeGenerated": _iso(at), "Computer": host, "HostName": host,
                       "Facility": facility, "SeverityLevel": severity,
                       "ProcessName": process, "ProcessID": rng.randint(300, 30000),
                       "SyslogMessage": message, "HostIP": "10.0.2.14",
                       "SourceSystem": "Demo"})
    return events


# The demo's events say where they come from: SourceSystem "Demo" (JSON text in the
# engine's `fields` map).
DEMO_TABLES = ("SecurityEvent", "Syslog")
_DEMO = ("table_name IN ('SecurityEvent', 'Syslog') "
                   "AND fields['SourceSystem'] = '\"Demo\"'")


def has_demo_events(subscription):
    workspace = _default_workspace(subscription)
    if workspace is None:
        return False
    result = engine.query(f"SELECT count() FROM {ddl.TABLE} WHERE {_DEMO}",  # noqa: S608
                          {}, tenant=Tenant(subscription.pk, (workspace.pk,)))
    return result.rows[0][0] > 0


def _default_workspace(subscription):
    return Workspace.objects.filter(subscription=subscription, is_default=True).first()


def seed_events(subscription, now=None):
    """Replace the demo events of `subscription`'s default workspace; returns the reports."""
    now = now or timezone.now()
    workspace = _default_workspace(subscription)
    if workspace is None:
        return []
    tables = list(DEMO_TABLES)
    with transaction.atomic():
        engine.delete(f"workspace_id = {{ws:UInt64}} AND {_DEMO}", {"ws": workspace.pk})
        recount_days(workspace, tables)
    reports = []
    for table, events in (("SecurityEvent", security_events(now)),
                          ("Syslog", syslog_events(now))):
        items = split_body(json.dumps(events).encode(), "application/json")
        reports.append(ingest_event_items(workspace, table, items, now=now))
    return reports


def recount_days(workspace, tables):
    """Rebuild EventDay for `tables` of `workspace` from the events themselves."""
    EventDay.objects.filter(workspace=workspace, table_name__in=tables).delete()
    result = engine.query(
        f"SELECT table_name, toDate(time_generated) AS day, count(), "  # noqa: S608
        f"min(ingested_at), max(ingested_at) FROM {ddl.TABLE} "
        "WHERE has({tables:Array(String)}, table_name) GROUP BY table_name, day",
        {"tables": list(tables)}, tenant=Tenant(workspace.subscription_id, (workspace.pk,)))
    rows = [{"table_name": t, "day": d, "n": n, "first": f, "last": la}
            for t, d, n, f, la in result.rows]
    EventDay.objects.bulk_create([
        EventDay(workspace=workspace, table_name=r["table_name"], day=r["day"], events=r["n"],
                 first_ingested_at=r["first"], last_ingested_at=r["last"]) for r in rows])
