"""The demo attack, told in Defender continuous-export alerts, timed relative to now.

On vm-web-01: RDP brute force from an external address → a successful logon →
suspicious PowerShell → credential dumping with comsvcs.dll → outbound traffic
to a malicious address; Defender's own "Security incident detected" over it.
On sqldb-orders: SQL injection attempts. Elsewhere: informational noise.
"""

import datetime as dt
import json
from datetime import timedelta

from alerts.ingest.store import ingest_body
from alerts.models import Alert, Entity, ProviderIncident
from inventory.demo import DEMO_ACTOR, DEVELOPMENT, PRODUCTION, resource_id

ATTACKER = "203.0.113.87"
C2 = "198.51.100.23"
SQLI_SOURCE = "192.0.2.144"
PROD_GUID, DEV_GUID = PRODUCTION[1], DEVELOPMENT[1]
WEB01 = resource_id(PROD_GUID, "prod-web", "microsoft.compute/virtualmachines/vm-web-01")
WEB02 = resource_id(PROD_GUID, "prod-web", "microsoft.compute/virtualmachines/vm-web-02")
DC01 = resource_id(PROD_GUID, "prod-identity", "microsoft.compute/virtualmachines/vm-dc-01")
ORDERS = resource_id(PROD_GUID, "prod-data",
                     "microsoft.sql/servers/sql-contoso-prod/databases/sqldb-orders")
BUILD01 = resource_id(DEV_GUID, "dev-ci", "microsoft.compute/virtualmachines/vm-build-01")
REFRESH_AFTER = timedelta(hours=12)


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _alert(key, name, alert_type, severity, intent, at, resource, host, entities, *,
           description, remediation, extended=None, duration=timedelta(minutes=5)):
    return {
        "SystemAlertId": f"demo-{key}",
        "AlertDisplayName": name,
        "AlertType": alert_type,
        "Severity": severity,
        "Intent": intent,
        "Description": description,
        "ProductName": "Microsoft Defender for Cloud",
        "VendorName": "Microsoft",
        "Status": "Active",
        "StartTimeUtc": _iso(at - duration),
        "EndTimeUtc": _iso(at),
        "TimeGenerated": _iso(at + timedelta(minutes=2)),
        "AzureResourceId": resource,
        "CompromisedEntity": host,
        "RemediationSteps": remediation,
        "ExtendedProperties": extended or {},
        "ExtendedLinks": [{"Href": "https://learn.microsoft.com/azure/defender-for-cloud/"
                                   "alerts-reference", "Category": "reference",
                           "Label": "Defender for Cloud alerts reference", "Type": "webLink"}],
        "Entities": entities,
    }


def _host(ref, name, resource):
    return {"$id": ref, "Type": "host", "HostName": name, "AzureID": resource,
            "OSFamily": "Windows", "NTDomain": "CONTOSO"}


def attack(now):
    """The alerts of the demo as continuous-export items, in two deliveries: the other
    resources', then the attack's (newest last)."""
    t0 = now - timedelta(hours=3)
    web = "vm-web-01"
    ps_cmd = ("powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand "
              "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA")
    ps_time = _iso(t0 + timedelta(minutes=48))
    svc = {"$id": "3", "Type": "account", "Name": "svc-backup", "NTDomain": "CONTOSO",
           "Sid": "S-1-5-21-3623811015-3361044348-30300820-1013"}
    powershell = {"$id": "5", "Type": "process", "ProcessId": "0x1a2c",
                  "CommandLine": ps_cmd, "CreationTimeUtc": ps_time,
                  "Host": {"$ref": "2"}, "Account": {"$ref": "3"},
                  "ImageFile": {"$id": "6", "Type": "file", "Name": "powershell.exe",
                                "Directory": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0"},
                  "ParentProcess": {"$id": "7", "Type": "process", "ProcessId": "0x0f10",
                                    "CommandLine": "C:\\Windows\\explorer.exe",
                                    "CreationTimeUtc": _iso(t0 + timedelta(minutes=31)),
                                    "Host": {"$ref": "2"}}}
    items = [
        _alert("rdp-bruteforce", "Failed RDP brute force attack", "VM_RDPBruteForce",
               "Medium", "PreAttack", t0, WEB01, web, [
                   _host("2", web, WEB01),
                   {"$id": "3", "Type": "ip", "Address": ATTACKER,
                    "Location": {"CountryCode": "NL", "City": "Amsterdam"}},
                   {"$id": "4", "Type": "account", "Name": "administrator",
                    "NTDomain": "CONTOSO"}],
               description=f"Several failed RDP logons to {web} from {ATTACKER}: 1,274 "
                           "attempts in 20 minutes against 38 account names.",
               remediation=["Block the source address in the network security group.",
                            "Enable just-in-time VM access for RDP.",
                            "Require strong passwords and lock out after repeated failures."],
               extended={"Failed attempts": "1274", "Accounts tried": "38",
                         "Protocol": "RDP"}, duration=timedelta(minutes=20)),
        _alert("rdp-success", "Successful RDP brute force attack", "VM_LoginBruteForceSuccess",
               "High", "InitialAccess", t0 + timedelta(minutes=27), WEB01, web, [
                   _host("2", web, WEB01), svc,
                   {"$id": "4", "Type": "ip", "Address": ATTACKER},
                   {"$id": "5", "Type": "host-logon-session", "SessionId": "0x3e7a11",
                    "StartTimeUtc": _iso(t0 + timedelta(minutes=27)),
                    "Account": {"$ref": "3"}, "Host": {"$ref": "2"}}],
               description=f"After many failures, {ATTACKER} logged on to {web} over RDP as "
                           "CONTOSO\\svc-backup. The account is probably compromised.",
               remediation=["Reset the password of CONTOSO\\svc-backup.",
                            "Review what the account did after the logon.",
                            "Isolate the machine if the activity is confirmed."],
               extended={"Logon type": "RemoteInteractive (10)",
                         "Source address": ATTACKER}),
        _alert("powershell", "Suspicious PowerShell script detected",
               "VM_PowerShellPostExploitationActivity", "High", "Execution",
               t0 + timedelta(minutes=48), WEB01, web, [
                   _host("2", web, WEB01), svc, {"$ref": "2"}, powershell],
               description="An encoded PowerShell command downloading content from the "
                           "internet ran on the machine in the attacker's session.",
               remediation=["Decode and review the command line.",
                            "Check for persistence (services, scheduled tasks, Run keys)."],
               extended={"Suspicious command": ps_cmd[:60] + "…", "User": "svc-backup"}),
        _alert("comsvcs", "Detected credential dumping with comsvcs.dll",
               "VM_CredentialDumpingComsvcs", "High", "CredentialAccess",
               t0 + timedelta(minutes=63), WEB01, web, [
                   _host("2", web, WEB01), svc, powershell,
                   {"$id": "8", "Type": "process", "ProcessId": "0x2b48",
                    "CommandLine": "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump "
                                   "624 C:\\Windows\\Temp\\lsass.dmp full",
                    "CreationTimeUtc": _iso(t0 + timedelta(minutes=63)),
                    "Host": {"$ref": "2"}, "Account": {"$ref": "3"},
                    "ParentProcess": {"$ref": "5"},
                    "ImageFile": {"$id": "9", "Type": "file", "Name": "rundll32.exe",
                                  "Directory": "C:\\Windows\\System32"}},
                   {"$id": "10", "Type": "file", "Name": "comsvcs.dll",
                    "Directory": "C:\\Windows\\System32",
                    "FileHashes": [{"$id": "11", "Type": "filehash", "Algorithm": "SHA256",
                                    "Value": "8f1a5c0b3e2d4f6a9b7c1d0e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"
                                             "6b7c8d9e0f1a"}]},
                   {"$id": "12", "Type": "file", "Name": "lsass.dmp",
                    "Directory": "C:\\Windows\\Temp"}],
               description="rundll32.exe called MiniDump in comsvcs.dll on the LSASS process: "
                           "a known way to steal the credentials of everyone logged on.",
               remediation=["Treat every credential used on vm-web-01 as stolen: reset them.",
                            "Delete C:\\Windows\\Temp\\lsass.dmp after collecting it.",
                            "Enable LSA protection (RunAsPPL)."],
               extended={"Target process": "lsass.exe (PID 624)",
                         "Dump file": "C:\\Windows\\Temp\\lsass.dmp"}),
        _alert("c2", "Communication with a malicious IP address detected",
               "Network_CommunicationWithC2", "High", "CommandAndControl,Exfiltration",
               t0 + timedelta(minutes=79), WEB01, web, [
                   _host("2", web, WEB01), svc, powershell,
                   {"$id": "13", "Type": "ip", "Address": C2,
                    "Location": {"CountryCode": "RU"}},
                   {"$id": "14", "Type": "url",
                    "Url": f"http://{C2}/upload/lsass.zip"}],
               description=f"{web} sent 48 MB to {C2}, an address threat intelligence lists as "
                           "a command-and-control server, shortly after the credential dump.",
               remediation=[f"Block {C2} at the firewall.",
                            "Isolate the machine and start incident response."],
               extended={"Bytes sent": "50331648", "Destination port": "80",
                         "Threat intelligence": "C2 server (high confidence)"}),
    ]
    incident = {
        "SystemAlertId": "demo-incident-vm-web-01",
        "AlertDisplayName": "Security incident detected",
        "AlertType": "SecurityIncident",
        "Severity": "High",
        "Intent": "InitialAccess,Execution,CredentialAccess,CommandAndControl",
        "IsIncident": True,
        "Description": f"The RDP brute force from {ATTACKER} on {web} was followed by a "
                       "successful logon, PowerShell, credential dumping and traffic to a "
                       "command-and-control server.",
        "ProductName": "Microsoft Defender for Cloud",
        "StartTimeUtc": _iso(t0 - timedelta(minutes=20)),
        "EndTimeUtc": _iso(t0 + timedelta(minutes=79)),
        "TimeGenerated": _iso(t0 + timedelta(minutes=85)),
        "AzureResourceId": WEB01,
        "CompromisedEntity": web,
        "Entities": [{"$id": "2", "Type": "alerts",
                      "SystemAlertIds": [i["SystemAlertId"] for i in items]}],
    }
    sqli = [
        _alert(f"sqli-{n}", "Potential SQL injection", "SQL.DB_PotentialSqlInjection", "High",
               "PreAttack,InitialAccess", now - timedelta(hours=h), ORDERS, "sqldb-orders", [
                   {"$id": "2", "Type": "azure-resource", "ResourceId": ORDERS},
                   {"$id": "3", "Type": "ip", "Address": SQLI_SOURCE}],
               description="A statement with a classic injection pattern ran against "
                           "sqldb-orders from the web application's connection.",
               remediation=["Use parameterised queries in the application.",
                            "Review the application's input validation."],
               extended={"Client IP address": SQLI_SOURCE, "Application": "orders-api",
                         "Vulnerable statement": stmt})
        for n, h, stmt in [
            (1, 5, "SELECT * FROM orders WHERE id = '1' OR '1'='1'"),
            (2, 4.5, "SELECT * FROM orders WHERE id = '1'; DROP TABLE orders--'"),
            (3, 4, "SELECT name FROM customers WHERE email = '' UNION SELECT password FROM "
                   "users--'")]]
    noise = [
        _alert("aac-web02", "Adaptive application control policy violation was audited",
               "VM_AdaptiveApplicationControlWindowsViolationAudited", "Informational",
               "Execution", now - timedelta(hours=7), WEB02, "vm-web-02",
               [_host("2", "vm-web-02", WEB02)],
               description="An application not on the allow list ran (audit mode).",
               remediation=["Review the application and add it to the allow list if "
                            "expected."]),
        _alert("traffic-dc01", "Traffic detected from IP addresses recommended for blocking",
               "Network_TrafficFromUnrecommendedIP", "Low", "Probing",
               now - timedelta(hours=9), DC01, "vm-dc-01",
               [_host("2", "vm-dc-01", DC01), {"$id": "3", "Type": "ip",
                                                "Address": "192.0.2.201"}],
               description="Inbound traffic from an address Defender recommends blocking.",
               remediation=["Restrict inbound access in the network security group."]),
    ]
    # What happened elsewhere arrives first, the attack on vm-web-01 last: the queue ranks
    # the incidents of one severity by the arrival of their latest alert.
    return [sqli + noise, items + [incident]]


def development(now):
    return [_alert("aac-build01", "Adaptive application control policy violation was audited",
                   "VM_AdaptiveApplicationControlWindowsViolationAudited", "Informational",
                   "Execution", now - timedelta(hours=2), BUILD01, "vm-build-01",
                   [_host("2", "vm-build-01", BUILD01)],
                   description="msbuild.exe from a new SDK ran (audit mode).",
                   remediation=["Add the new SDK to the allow list."])]


def demo_alerts_fresh(subscriptions, now):
    """True when the demo alerts were ingested less than REFRESH_AFTER ago."""
    newest = Alert.objects.filter(subscription=subscriptions[PRODUCTION], key__startswith="demo-")\
        .order_by("-ingested_at").values_list("ingested_at", flat=True).first()
    return bool(newest and now - newest < REFRESH_AFTER)


def clear_demo_alerts(subscription):
    """Remove a subscription's demo alerts, so that new ones are timed relative to now.
    Demo data only; whatever was built from them above this app is its owner's to clear
    first (seed_demo does)."""
    Alert.objects.filter(subscription=subscription, key__startswith="demo-").delete()
    ProviderIncident.objects.filter(subscription=subscription, key__startswith="demo-").delete()
    Entity.objects.filter(subscription=subscription, mentions__isnull=True).delete()


def seed_alerts(subscriptions, now):
    """Ingest the demo alerts, timed relative to `now`, each delivery received a minute
    after its newest alert was generated (so the incidents came into the queue hours ago,
    as the story says); returns the reports."""
    prod = subscriptions[PRODUCTION]
    dev = subscriptions[DEVELOPMENT]
    elsewhere, attack_delivery = attack(now)
    deliveries = [(prod, [item]) for item in elsewhere] + [(prod, attack_delivery),
                                                           (dev, development(now))]
    deliveries.sort(key=lambda d: _received(d[1]))
    return [ingest_body(sub, json.dumps(items).encode(), "application/json",
                        actor=DEMO_ACTOR, source="command", received_at=_received(items))
            for sub, items in deliveries]


def _received(items):
    generated = [item["TimeGenerated"] for item in items if "TimeGenerated" in item]
    newest = max(dt.datetime.fromisoformat(t.replace("0Z", "+00:00")) for t in generated)
    return newest + timedelta(minutes=1)
