"""Synthetic Defender continuous-export alerts for benchmarks: about six entities each."""

import random
from datetime import UTC, datetime, timedelta

SEVERITIES = ["High", "Medium", "Low", "Informational"]
TACTICS = ["InitialAccess", "Execution", "Persistence", "CredentialAccess", "Discovery",
           "LateralMovement", "CommandAndControl", "Exfiltration"]


def make_alerts(n, seed=1, prefix="bench", hosts=200, accounts=500, addresses=2000, images=40):
    """n alerts; hosts, accounts, addresses and images repeat across alerts (merging work)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        h = rng.randrange(hosts)
        host = f"vm-bench-{h:04d}"
        t = start + timedelta(seconds=i * 7)
        iso = t.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        image = rng.randrange(images)
        out.append({
            "SystemAlertId": f"{prefix}-{i:08d}",
            "AlertDisplayName": f"Suspicious process {image} executed",
            "AlertType": f"VM_Bench{image % 10}",
            "Severity": rng.choice(SEVERITIES),
            "Intent": rng.choice(TACTICS),
            "Description": "A process with a known-bad command line ran on the machine.",
            "ProductName": "Microsoft Defender for Cloud",
            "StartTimeUtc": iso, "EndTimeUtc": iso, "TimeGenerated": iso,
            "AzureResourceId": f"/subscriptions/00000000-0000-0000-0000-00000000beef/"
                               f"resourcegroups/bench/providers/microsoft.compute/"
                               f"virtualmachines/{host}",
            "CompromisedEntity": host,
            "RemediationSteps": ["Isolate the machine.", "Reset credentials."],
            "ExtendedProperties": {"Rule": f"bench-{image}", "Attempt": str(i)},
            "Entities": [
                {"$id": "2", "Type": "host", "HostName": host, "NTDomain": "BENCH"},
                {"$id": "3", "Type": "account", "Name": f"user{rng.randrange(accounts)}",
                 "NTDomain": "BENCH"},
                {"$id": "4", "Type": "ip", "Address": f"10.{rng.randrange(8)}."
                                                      f"{rng.randrange(250)}."
                                                      f"{rng.randrange(addresses) % 250}"},
                {"$id": "5", "Type": "file", "Name": f"tool{image}.exe",
                 "Directory": "C:\\Windows\\Temp",
                 "FileHashes": [{"$ref": "6"}]},
                {"$id": "6", "Type": "filehash", "Algorithm": "SHA256",
                 "Value": f"{image:064x}"},
                {"$id": "7", "Type": "process", "ProcessId": str(1000 + i % 60000),
                 "CommandLine": f"tool{image}.exe --run {i}", "CreationTimeUtc": iso,
                 "Host": {"$ref": "2"}, "Account": {"$ref": "3"},
                 "ImageFile": {"$ref": "5"}},
            ],
        })
    return out
