"""Finding an alert's resource when the clues disagree."""

from alerts.models import Alert
from inventory.models import Resource, ResourceHostName
from tests.alerts.helpers import arm_example, ingest
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
    ingest(p.sub, arm_example())
    vm1 = Resource.objects.get(subscription=p.sub, name="vm1")
    # The second ARM sample is about vm1 but names host vm2 (with vm2's AzureID).
    assert not ResourceHostName.objects.filter(resource=vm1, name="vm2").exists()
    report = ingest(p.sub, native_alert(compromised_entity="", entities=[
        host("vm2", "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourcegroups/"
                    "myRg2/providers/microsoft.compute/virtualmachines/vm2")]))
    assert resource_of(report).name == "vm2"


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
