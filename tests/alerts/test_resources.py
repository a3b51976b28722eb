"""Finding an alert's resource when the clues disagree."""

from alerts.models import Alert
from inventory.models import Resource, ResourceHostName
from tests.alerts.helpers import arm_alerts, ingest
from tests.factories import native_alert

VM = "/subscriptions/s1/resourcegroups/rg/providers/microsoft.compute/virtualmachines/{}"


def host(name, azure=None):
    entity = {"$id": "1", "Type": "host", "HostName": name}
    if azure:
        entity["AzureID"] = azure
    return entity


def resource_of(report, i=0):
    return Alert.objects.get(pk=report.results[i].id).resource


def test_a_host_with_another_azure_id_does_not_teach_its_name(p):
    ingest(p.sub, {"value": arm_alerts()})
    app1 = Resource.objects.get(subscription=p.sub, name="payroll-app-01")
    # The second ARM alert is about payroll-app-01 but names host payroll-app-02 (with
    # payroll-app-02's AzureID).
    assert not ResourceHostName.objects.filter(resource=app1, name="payroll-app-02").exists()
    report = ingest(p.sub, native_alert(compromised_entity="", entities=[
        host("payroll-app-02", "/subscriptions/6f1c0d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5/"
                               "resourcegroups/rg-payroll/providers/microsoft.compute/"
                               "virtualmachines/payroll-app-02")]))
    assert resource_of(report).name == "payroll-app-02"


def test_two_machines_with_one_name_are_two_resources(p):
    first = ingest(p.sub, native_alert(compromised_entity="db-01",
                                       entities=[host("db-01", VM.format("db-01-a"))]))
    second = ingest(p.sub, native_alert(compromised_entity="db-01",
                                        entities=[host("db-01", VM.format("db-01-b"))]))
    assert resource_of(first) != resource_of(second)
    assert {resource_of(first).external_id, resource_of(second).external_id} == \
        {VM.format("db-01-a"), VM.format("db-01-b")}


def test_a_resource_known_by_name_adopts_the_id_of_a_later_alert(p):
    named = ingest(p.sub, native_alert(compromised_entity="web-07", entities=[host("web-07")]))
    resource = resource_of(named)
    assert resource.external_id == ""
    later = ingest(p.sub, native_alert(compromised_entity="web-07",
                                       entities=[host("web-07", VM.format("web-07"))]))
    resource.refresh_from_db()
    assert resource_of(later) == resource and resource.external_id == VM.format("web-07")
    # And from now on the id alone finds it.
    by_id = ingest(p.sub, native_alert(compromised_entity="", resource_id=VM.format("web-07"),
                                       entities=[]))
    assert resource_of(by_id) == resource
