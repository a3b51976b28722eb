"""Finding resources by the host names they are known under (FORMATS.md, "Resources")."""

from django.db.models.functions import Lower

from .models import Resource, ResourceHostName


def resources_by_host_name(subscription_id, names, *, short_names=True):
    """{lower-case name: Resource} for the `names` a resource is called or was seen under.

    A learned host name wins over a resource's own name. With `short_names`, a fully
    qualified name that matches nothing is tried by its first label
    (vm-web-01.contoso.local → vm-web-01).
    """
    names = {n.strip().lower() for n in names if n and n.strip()}
    if not names:
        return {}
    short = {n: n.split(".", 1)[0] for n in names
             if short_names and "." in n and not n[0].isdigit()}
    wanted = names | set(short.values())
    found = {}
    for host in ResourceHostName.objects.filter(
            subscription_id=subscription_id, name__in=wanted).select_related("resource"):
        found[host.name] = host.resource
    for resource in Resource.objects.annotate(lower_name=Lower("name")).filter(
            subscription_id=subscription_id, lower_name__in=wanted):
        found.setdefault(resource.name.lower(), resource)
    for name, label in short.items():
        if name not in found and label in found:
            found[name] = found[label]
    return found
