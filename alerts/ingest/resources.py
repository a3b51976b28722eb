"""Finding the resource an alert is about (FORMATS.md, "Resources").

In order: the alert's Azure resource id; a host entity's AzureID; a host name
(the compromised entity, a host entity's HostName) matching a resource's name or
a host name it is known by; else a new resource. A resource learns the host
names it is seen under, so a later alert naming only the host finds it.
"""

from django.db.models.functions import Lower

from inventory.models import Resource, ResourceHostName

_KINDS = [
    ("/microsoft.compute/virtualmachines/", Resource.Kind.VIRTUAL_MACHINE),
    ("/microsoft.hybridcompute/machines/", Resource.Kind.VIRTUAL_MACHINE),
    ("/microsoft.classiccompute/virtualmachines/", Resource.Kind.VIRTUAL_MACHINE),
    ("/microsoft.sql/servers/", Resource.Kind.SQL_DATABASE),
    ("/microsoft.dbfor", Resource.Kind.SQL_DATABASE),
    ("/microsoft.storage/storageaccounts/", Resource.Kind.STORAGE_ACCOUNT),
    ("/microsoft.web/sites/", Resource.Kind.APP_SERVICE),
    ("/microsoft.containerservice/managedclusters/", Resource.Kind.KUBERNETES_CLUSTER),
]


def kind_of(resource_id):
    for marker, kind in _KINDS:
        if marker in resource_id:
            return kind
    return Resource.Kind.OTHER


def _host_names(item):
    """Lower-cased host names the alert names: its compromised entity and its hosts."""
    names = []
    for mention in item.entities:
        if mention.kind == "host":
            for key in ("HostName", "NetBiosName"):
                value = mention.props.get(key)
                if isinstance(value, str) and value.strip():
                    names.append(value.strip().lower())
    compromised = item.compromised_entity.strip().lower()
    if compromised and "/" not in compromised and " " not in compromised:
        names.insert(0, compromised)
    return list(dict.fromkeys(names))


def _azure_ids(item):
    ids = [item.resource_id.strip().lower()] if item.resource_id.strip() else []
    for mention in item.entities:
        if mention.kind == "host":
            value = mention.props.get("AzureID")
            if isinstance(value, str) and value.strip():
                ids.append(value.strip().lower())
    return [i for i in dict.fromkeys(ids) if i.startswith("/")]


class ResourceFinder:
    """Resolves the resources of a batch with one query per lookup kind."""

    def __init__(self, subscription, items):
        self.subscription = subscription
        self.plans = [(_azure_ids(item), _host_names(item)) for item in items]
        ids = {i for ids, _ in self.plans for i in ids}
        names = {n for _, names in self.plans for n in names}
        names |= {i.rsplit("/", 1)[-1] for i in ids}
        self.by_id = {r.external_id: r for r in Resource.objects.filter(
            subscription=subscription, external_id__in=ids)} if ids else {}
        self.by_name = {}
        if names:
            for host in ResourceHostName.objects.filter(
                    subscription=subscription, name__in=names).select_related("resource"):
                self.by_name[host.name] = host.resource
            for resource in Resource.objects.annotate(lower_name=Lower("name")).filter(
                    subscription=subscription, lower_name__in=names):
                self.by_name.setdefault(resource.name.lower(), resource)
        self.known_names = set(self.by_name)

    def find(self, index):
        """The resource of item `index`, created when nothing matches (None without clues)."""
        ids, names = self.plans[index]
        resource = next((self.by_id[i] for i in ids if i in self.by_id), None)
        if resource is None:
            resource = next((self.by_name[n] for n in names if n in self.by_name), None)
        if resource is None and (ids or names):
            resource = self._create(ids, names)
        if resource is not None:
            self._learn(resource, names)
        return resource

    def _create(self, ids, names):
        external_id = ids[0] if ids else ""
        if external_id:
            name = external_id.rstrip("/").rsplit("/", 1)[-1]
            kind = kind_of(external_id)
        else:
            name = names[0]
            kind = Resource.Kind.VIRTUAL_MACHINE
        resource = Resource.objects.create(subscription=self.subscription, kind=kind,
                                           name=name[:255], external_id=external_id[:1024])
        if external_id:
            self.by_id[external_id] = resource
        return resource

    def _learn(self, resource, names):
        for name in names:
            if name not in self.known_names and len(name) <= 255:
                ResourceHostName.objects.get_or_create(
                    subscription=self.subscription, name=name, defaults={"resource": resource})
                self.known_names.add(name)
                self.by_name[name] = resource
