"""Finding the resource an alert is about (FORMATS.md, "Resources").

In order: the alert's Azure resource id; a host entity's AzureID; a host name
(the compromised entity, a host entity's HostName) matching a resource's name or
a host name it is known by; else a new resource. A resource learns the host
names it is seen under, so a later alert naming only the host finds it.
"""

from django.db.models.functions import Lower

from inventory.collection import collecting_for_new, record_first_seen
from inventory.models import Resource, ResourceHostName
from socconsole.lib.bulk import bulk_insert

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


MAX_EXTERNAL_ID = 1000  # bytes: an indexed column must stay well under PostgreSQL's limit


class Plan:
    """What an alert says about its resource: resource ids, and host names with the
    AzureID of the host that carries each ("" when none)."""

    __slots__ = ("ids", "names", "compromised", "hosts")

    def __init__(self, item):
        ids = [item.resource_id.strip().lower()] if item.resource_id.strip() else []
        self.names = []
        for mention in item.entities:
            if mention.kind != "host":
                continue
            azure = mention.props.get("AzureID")
            azure = azure.strip().lower() if isinstance(azure, str) else ""
            if azure:
                ids.append(azure)
            for key in ("HostName", "NetBiosName"):
                value = mention.props.get(key)
                if isinstance(value, str) and value.strip():
                    self.names.append((value.strip().lower(), azure))
        compromised = item.compromised_entity.strip().lower()
        self.compromised = compromised if compromised and "/" not in compromised and \
            " " not in compromised else ""
        if self.compromised:
            self.names.insert(0, (self.compromised, ""))
        # An id too long to index is no id (it is kept on the alert as sent).
        self.ids = [i for i in dict.fromkeys(ids) if i.startswith("/") and
                    len(i.encode("utf-8", "replace")) <= MAX_EXTERNAL_ID]
        self.hosts = sum(1 for m in item.entities if m.kind == "host")

    def lookup_names(self):
        return list(dict.fromkeys(name for name, _ in self.names))

    def own_names(self, resource):
        """The names this alert shows `resource` under: its compromised entity's, those of a
        host carrying the resource's AzureID, and an unidentified host's when it is the
        alert's only host. A name carried by a host with another AzureID belongs to another
        machine; an alert naming several hosts (lateral movement) teaches none of the
        others, since alert text is written by attackers too."""
        own = resource.external_id
        foreign = {name for name, azure in self.names if azure and azure != own}
        names = []
        for name, azure in self.names:
            if name in foreign:
                continue
            if (azure and azure == own) or name == self.compromised or \
                    (not azure and self.hosts == 1):
                names.append(name)
        return list(dict.fromkeys(names))


class Found:
    """A resource as the finder knows it: its id (None until written) and its AzureID."""

    __slots__ = ("pk", "external_id")

    def __init__(self, pk, external_id):
        self.pk, self.external_id = pk, external_id


class ResourceFinder:
    """Resolves the resources of a batch with one query per lookup kind; the resources it
    creates and the names it learns are written together by `flush`."""

    def __init__(self, subscription, items, plans=None):
        self.subscription = subscription
        self.plans = plans if plans is not None else [Plan(item) for item in items]
        ids = {i for plan in self.plans for i in plan.ids}
        names = {n for plan in self.plans for n in plan.lookup_names()}
        names |= {i.rsplit("/", 1)[-1] for i in ids}
        known = {}  # resource id -> Found: one object per resource, whichever way it is found
        self.by_id = {}
        if ids:
            for pk, external_id in Resource.objects.filter(
                    subscription=subscription, external_id__in=ids).values_list(
                    "pk", "external_id"):
                self.by_id[external_id] = known.setdefault(pk, Found(pk, external_id))
        # A learned host name wins over a resource's own name (as resources_by_host_name).
        self.by_name = {}
        if names:
            for name, pk, external_id in ResourceHostName.objects.filter(
                    subscription=subscription, name__in=names).values_list(
                    "name", "resource_id", "resource__external_id"):
                self.by_name[name] = known.setdefault(pk, Found(pk, external_id))
            for name, pk, external_id in Resource.objects.annotate(
                    lower_name=Lower("name")).filter(
                    subscription=subscription, lower_name__in=names).values_list(
                    "name", "pk", "external_id"):
                self.by_name.setdefault(name.lower(), known.setdefault(pk, Found(pk,
                                                                                external_id)))
        self.known_names = set(self.by_name)
        self.created, self.learned = [], []

    def find(self, index):
        """The resource of item `index`, created when nothing matches (None without clues)."""
        plan = self.plans[index]
        resource = next((self.by_id[i] for i in plan.ids if i in self.by_id), None)
        if resource is None:
            resource = next((r for r in (self.by_name.get(n) for n in plan.lookup_names())
                             if r is not None and self._fits(r, plan)), None)
            if resource is not None and plan.ids and not resource.external_id:
                self._adopt(resource, plan.ids[0])
        if resource is None and (plan.ids or plan.names):
            resource = self._create(plan)
        if resource is not None:
            self._learn(resource, plan.own_names(resource))
        return resource

    @staticmethod
    def _fits(resource, plan):
        # A resource known by another id is another resource, whatever its name.
        return not (plan.ids and resource.external_id and resource.external_id not in plan.ids)

    def _adopt(self, resource, external_id):
        """A resource known only by name learns its id from the first alert that carries it."""
        if Resource.objects.filter(subscription=self.subscription,
                                   external_id=external_id).exists():
            return
        resource.external_id = external_id
        if resource.pk is not None:  # one created in this batch is written with it
            Resource.objects.filter(pk=resource.pk).update(external_id=external_id)
        self.by_id[resource.external_id] = resource

    def _create(self, plan):
        external_id = plan.ids[0] if plan.ids else ""
        if external_id:
            name = external_id.rstrip("/").rsplit("/", 1)[-1]
            kind = kind_of(external_id)
        else:
            name = plan.lookup_names()[0]
            kind = Resource.Kind.VIRTUAL_MACHINE
        resource = Found(None, external_id)
        self.created.append((resource, kind, name[:255]))
        if external_id:
            self.by_id[external_id] = resource
        return resource

    def _learn(self, resource, names):
        fresh = [n for n in names if n not in self.known_names and len(n) <= 255]
        for name in fresh:
            self.known_names.add(name)
            self.by_name[name] = resource
            self.learned.append((name, resource))

    def flush(self):
        """Write the resources created and the names learned: then every resource has its id."""
        sub = self.subscription.pk
        # A resource first seen in an alert collects if automatic provisioning is on;
        # either way its alerts are accepted.
        collecting = collecting_for_new(sub) if self.created else True
        ids = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id",
                                     "collecting"),
                          [(sub, kind, name, resource.external_id, collecting)
                           for resource, kind, name in self.created])
        for (resource, _, _), pk in zip(self.created, ids, strict=True):
            resource.pk = pk
        if self.created:
            record_first_seen(sub, [(r.pk, name) for r, _, name in self.created],
                              collecting=collecting, seen_in="an alert")
        # A name another batch learned meanwhile keeps its first resource.
        ResourceHostName.objects.bulk_create(
            [ResourceHostName(subscription_id=sub, name=name, resource_id=resource.pk)
             for name, resource in self.learned], ignore_conflicts=True)
        self.created, self.learned = [], []
