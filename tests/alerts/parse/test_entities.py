from alerts.ingest.parse import normalize

VM_ID = "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM1"


def relations(alert):
    return [(r.source, r.target, r.type, r.target_ref, r.prop) for r in alert.relations]


def codes(alert):
    return [warning.code for warning in alert.warnings]


def test_it_resolves_a_reused_id_to_the_entity_of_the_right_kind(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "host", "HostName": "web1"},
        {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "corp"},
        {"$id": "3", "Type": "process", "ProcessId": "12", "CommandLine": "run.exe",
         "CreationTimeUtc": "2024-01-01T00:00:00.5Z",
         "Host": {"$ref": "2"}, "Account": {"$ref": "2"}},
    ]))
    assert relations(alert) == [(2, 0, "runs_on", "2", "Host"),
                                (2, 1, "runs_as", "2", "Account")]
    assert codes(alert) == ["duplicate_id"]
    assert alert.entities[2].strong_ids == [
        "process|pid-time-host|12|2024-01-01T00:00:00Z|web1",
        "process|cmd-time-host|run.exe|2024-01-01T00:00:00Z|web1"]
    assert alert.entities[1].weak_ids == ["account|name|alice|web1"]


def test_it_prefers_the_nearest_definition_before_the_reference(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "host", "HostName": "first"},
        {"$id": "2", "Type": "host", "HostName": "second"},
        {"$id": "3", "Type": "process", "Host": {"$ref": "2"}},
    ]))
    assert relations(alert) == [(2, 1, "runs_on", "2", "Host")]


def test_it_resolves_a_forward_reference_with_a_warning(make_native):
    alert = normalize(make_native([
        {"$id": "3", "Type": "process", "ProcessId": "7", "Host": {"$ref": "4"}},
        {"$id": "4", "Type": "host", "HostName": "later"},
    ]))
    assert relations(alert) == [(0, 1, "runs_on", "4", "Host")]
    assert codes(alert) == ["forward_reference"]
    assert alert.warnings[0].field == "entities[0].Host"


def test_it_keeps_a_dangling_reference(make_native):
    alert = normalize(make_native([
        {"$id": "3", "Type": "process", "ProcessId": "7", "ParentProcess": {"$ref": "9"}},
    ]))
    assert relations(alert) == [(0, None, "parent", "9", "ParentProcess")]
    assert codes(alert) == ["dangling_reference"]


def test_it_keeps_a_reference_to_the_wrong_kind_dangling(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "ip", "Address": "10.0.0.1"},
        {"$id": "3", "Type": "process", "Host": {"$ref": "2"}},
    ]))
    assert relations(alert) == [(1, None, "runs_on", "2", "Host")]
    assert codes(alert) == ["kind_mismatch"]


def test_it_ignores_a_self_reference(make_native):
    alert = normalize(make_native([
        {"$id": "5", "Type": "process", "ProcessId": "1", "ParentProcess": {"$ref": "5"}},
    ]))
    assert alert.relations == []
    assert codes(alert) == ["self_reference"]


def test_it_marks_a_reference_cycle(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "process", "ProcessId": "1", "ParentProcess": {"$ref": "4"}},
        {"$id": "3", "Type": "process", "ProcessId": "2", "ParentProcess": {"$ref": "2"}},
        {"$id": "4", "Type": "process", "ProcessId": "3", "ParentProcess": {"$ref": "3"}},
        {"$id": "5", "Type": "process", "ProcessId": "4", "ParentProcess": {"$ref": "4"}},
    ]))
    assert [(r.source, r.target, r.in_cycle) for r in alert.relations] == [
        (0, 2, True), (1, 0, True), (2, 1, True), (3, 2, False)]
    assert codes(alert) == ["forward_reference", "reference_cycle"]


def test_it_flattens_inline_entities_in_document_order(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "process", "CommandLine": "a.exe",
         "ImageFile": {"$id": "3", "Type": "file", "Name": "a.exe", "Directory": "C:\\x\\",
                       "FileHashes": [{"$id": "4", "Type": "filehash", "Algorithm": "SHA256",
                                       "Value": "ABCD"}]},
         "Host": {"$id": "5", "Type": "host", "HostName": "H1"}},
        {"$ref": "5"},
        {"$id": "6", "Type": "account", "Name": "bob", "Host": {"$ref": "5"}},
    ]))
    assert [(e.index, e.kind, e.ref_id) for e in alert.entities] == [
        (0, "process", "2"), (1, "file", "3"), (2, "filehash", "4"), (3, "host", "5"),
        (4, "account", "6")]
    assert alert.entities[0].props == {"CommandLine": "a.exe"}
    assert relations(alert) == [(1, 2, "has_hash", None, "FileHashes"),
                                (0, 1, "image", None, "ImageFile"),
                                (0, 3, "runs_on", None, "Host"),
                                (4, 3, "refers_to", "5", "Host")]
    assert alert.entities[1].strong_ids == ["file|path|c:\\x|a.exe|h1"]
    assert alert.entities[2].strong_ids == ["filehash|sha256|abcd"]
    assert alert.entities[2].label == "SHA256:ABCD"
    assert alert.warnings == []


def test_it_warns_about_a_dangling_bare_reference_in_the_list(make_native):
    alert = normalize(make_native([{"Type": "ip", "Address": "1.1.1.1"}, {"$ref": "6"}]))
    assert len(alert.entities) == 1
    assert codes(alert) == ["ref_in_entity_list"]


def test_it_keeps_unknown_entity_types_unmerged(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "K8s-pod", "Name": "web-7f9", "Namespace": {"$ref": "3"}},
        {"$id": "3", "Type": "K8s-Namespace", "Name": "prod"},
        {"$id": "4", "Type": "k8s-pod", "Name": "web-8a1"},
    ]))
    pod = alert.entities[0]
    assert (pod.kind, pod.known, pod.label) == ("k8s-pod", False, "web-7f9")
    assert pod.strong_ids == pod.weak_ids == []
    assert relations(alert) == [(0, 1, "refers_to", "3", "Namespace")]
    assert codes(alert) == ["unknown_entity_type", "unknown_entity_type", "forward_reference"]


def test_it_collects_the_alert_ids_of_an_incident(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "alerts", "SystemAlertIds": ["x1", "x2"]},
        {"$id": "3", "Type": "Alert", "SystemAlertId": "x3"},
        {"$id": "4", "Type": "alerts", "SystemAlertIds": ["x1"]},
    ], is_incident=True))
    assert alert.is_incident
    assert alert.incident_alert_ids == ["x1", "x2", "x3"]
    assert alert.entities == []


def test_camel_and_pascal_keys_give_the_same_identifiers(make_native):
    camel = [{"type": "host", "hostName": "Web1", "azureID": VM_ID, "omsAgentID": "AG-1",
              "dnsDomain": "corp.example"},
             {"type": "account", "name": "Alice", "upnSuffix": "Contoso.com",
              "aadUserId": "U-1", "sid": "S-1-5-21-1-2-3-1001"},
             {"type": "ip", "address": "2001:DB8:0:0::1"},
             {"type": "file", "directory": "/usr/bin/", "name": "wget"},
             {"type": "dns", "domainName": "Evil.Example."},
             {"type": "url", "url": "HTTPS://Evil.Example/Path?Q=1"},
             {"type": "azure-resource", "resourceId": VM_ID},
             {"type": "mailbox", "mailboxPrimaryAddress": "Bob@Contoso.com"},
             {"type": "malware", "name": "EICAR", "category": "Virus"}]
    pascal = [{("Type" if k == "type" else k[0].upper() + k[1:]): v for k, v in e.items()}
              for e in camel]
    pascal[0]["AzureID"] = pascal[0].pop("AzureID")
    first, second = normalize(make_native(camel)), normalize(make_native(pascal))
    assert [(e.strong_ids, e.weak_ids) for e in first.entities] == \
        [(e.strong_ids, e.weak_ids) for e in second.entities]
    host, account, ip, file, dns, url, resource, mailbox, malware = first.entities
    assert host.strong_ids == [f"host|azureid|{VM_ID.lower()}", "host|omsagentid|ag-1",
                               "host|name-dnsdomain|web1|corp.example"]
    assert account.strong_ids == ["account|aaduserid|u-1", "account|sid|s-1-5-21-1-2-3-1001",
                                  "account|name-upn|alice|contoso.com"]
    assert account.label == "Alice@Contoso.com"
    assert ip.strong_ids == ["ip|address|2001:db8::1"]
    assert file.strong_ids == ["file|path|/usr/bin|wget|web1"]  # the host part is its name
    assert dns.strong_ids == ["dns|domain|evil.example"]
    assert url.strong_ids == ["url|url|https://evil.example/Path?Q=1"]
    assert resource.strong_ids == [f"azure-resource|resourceid|{VM_ID.lower()}"]
    assert resource.label == "VM1"
    assert mailbox.strong_ids == ["mailbox|address|bob@contoso.com"]
    assert malware.strong_ids == ["malware|name-category|eicar|virus"]
    assert first.warnings == []


def test_a_well_known_sid_is_not_a_strong_identifier(make_native):
    alert = normalize(make_native([
        {"Type": "account", "Name": "SYSTEM", "Sid": "S-1-5-18"},
        {"Type": "account", "Name": "Administrators", "Sid": "S-1-5-32-544"},
        {"Type": "account", "Name": "dbadmin", "Sid": "1001:1001"},
        {"Type": "account", "Name": "alice", "Sid": "S-1-5-21-111-222-333-500"},
    ]))
    assert [e.strong_ids for e in alert.entities] == [
        [], [], [], ["account|sid|s-1-5-21-111-222-333-500"]]
    assert [e.weak_ids for e in alert.entities] == [
        ["account|name|system"], ["account|name|administrators"], ["account|name|dbadmin"],
        ["account|name|alice"]]


def test_one_host_seen_two_ways_shares_the_weak_name(make_native):
    by_name = normalize(make_native([
        {"Type": "host", "HostName": "MSTICAlertsWin1", "NetBiosName": "MSTICALERTSWIN1"}]))
    by_id = normalize(make_native([
        {"Type": "host", "AzureID": VM_ID, "OMSAgentID": "263a", "HostName": "msticalertswin1"}]))
    assert by_name.entities[0].strong_ids == []
    assert by_name.entities[0].weak_ids == ["host|name|msticalertswin1"]
    assert by_id.entities[0].weak_ids == ["host|name|msticalertswin1"]
    assert len(by_id.entities[0].strong_ids) == 2


def test_a_process_known_only_by_its_id_has_no_identifiers(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "host", "HostName": "h"},
        {"Type": "process", "ProcessId": "0x1f", "Host": {"$ref": "2"}}]))
    process = alert.entities[1]
    assert (process.strong_ids, process.weak_ids, process.label) == ([], [], "process 0x1f")


def test_an_account_is_tied_to_the_host_of_its_session(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "host", "HostName": "H"},
        {"$id": "3", "Type": "host", "HostName": "Other"},
        {"$id": "4", "Type": "account", "Name": "Root"},
        {"$id": "5", "Type": "host-logon-session", "SessionId": "0x2E", "Host": {"$ref": "2"},
         "Account": {"$ref": "4"}, "StartTimeUtc": "2019-02-16T03:23:54.29Z"},
    ]))
    assert alert.entities[2].weak_ids == ["account|name|root|h"]
    assert alert.entities[3].strong_ids == [
        "host-logon-session|session-host-time|0x2e|h|2019-02-16T03:23:54Z"]
    assert [r.type for r in alert.relations] == ["session_host", "session_account"]


def test_registry_and_dns_links_are_typed(make_native):
    alert = normalize(make_native([
        {"$id": "2", "Type": "registry-key", "Hive": "HKEY_LOCAL_MACHINE", "Key": "SOFTWARE\\X"},
        {"$id": "3", "Type": "registry-value", "Name": "Run", "Key": {"$ref": "2"}},
        {"$id": "4", "Type": "ip", "Address": "10.0.0.010"},
        {"$id": "5", "Type": "dns", "DomainName": "a.example", "IpAdresses": [{"$ref": "4"}]},
    ]))
    assert [r.type for r in alert.relations] == ["in_key", "resolves_to"]
    assert alert.entities[1].strong_ids == [
        "registry-value|key-name|hkey_local_machine|software\\x|run"]
    assert alert.entities[2].strong_ids == ["ip|address|10.0.0.010"]


def test_it_skips_an_entity_that_is_not_an_object(make_native):
    alert = normalize(make_native([{"Type": "ip", "Address": "10.0.0.1"}, "10.0.0.2", None]))
    assert [e.label for e in alert.entities] == ["10.0.0.1"]
    assert [(w.code, w.field) for w in alert.warnings] == [
        ("bad_entity", "entities[1]"), ("bad_entity", "entities[2]")]
