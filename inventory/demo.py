"""The demo estate: a Contoso-like company with two subscriptions, its resources and people."""

from django.contrib.auth import get_user_model
from django.db import transaction

from inventory.activity import Actor
from inventory.models import Resource, ResourceHostName, Subscription
from inventory.people import grant_role
from inventory.subscriptions import create_subscription

DEMO_ACTOR = Actor.of_system("demo")

# (user name, password, role) — printed by `make run`; for a local demo only.
DEMO_USERS = [
    ("analyst", "analyst-demo-pass", "analyst"),
    ("lead", "lead-demo-pass", "shift_lead"),
    ("admin", "admin-demo-pass", "admin"),
]

PRODUCTION = ("Contoso Production", "1b6c2a40-5a3e-4a3e-9f0e-2d9c8f1e7a10")
DEVELOPMENT = ("Contoso Development", "7d1e3f52-8c4b-4b1d-a2e6-6f0a9b3c5d21")

RG = "/subscriptions/{guid}/resourcegroups/{rg}/providers/"
RESOURCES = {
    PRODUCTION: [
        ("virtual_machine", "vm-web-01", "prod-web", "microsoft.compute/virtualmachines/vm-web-01",
         "Dana Whitfield", "dana.whitfield@contoso.example"),
        ("virtual_machine", "vm-web-02", "prod-web", "microsoft.compute/virtualmachines/vm-web-02",
         "Dana Whitfield", "dana.whitfield@contoso.example"),
        ("virtual_machine", "vm-dc-01", "prod-identity",
         "microsoft.compute/virtualmachines/vm-dc-01", "Ravi Menon", "ravi.menon@contoso.example"),
        ("sql_database", "sqldb-orders", "prod-data",
         "microsoft.sql/servers/sql-contoso-prod/databases/sqldb-orders",
         "Lena Ortiz", "lena.ortiz@contoso.example"),
        ("sql_database", "sqldb-customers", "prod-data",
         "microsoft.sql/servers/sql-contoso-prod/databases/sqldb-customers",
         "Lena Ortiz", "lena.ortiz@contoso.example"),
        ("storage_account", "stcontosoprod", "prod-data",
         "microsoft.storage/storageaccounts/stcontosoprod", "Lena Ortiz",
         "lena.ortiz@contoso.example"),
    ],
    DEVELOPMENT: [
        ("virtual_machine", "vm-build-01", "dev-ci",
         "microsoft.compute/virtualmachines/vm-build-01",
         "Sam Keller", "sam.keller@contoso.example"),
        ("app_service", "app-contoso-staging", "dev-web",
         "microsoft.web/sites/app-contoso-staging", "Sam Keller", "sam.keller@contoso.example"),
        ("kubernetes_cluster", "aks-dev", "dev-ci",
         "microsoft.containerservice/managedclusters/aks-dev", "Sam Keller",
         "sam.keller@contoso.example"),
    ],
}


def resource_id(guid, rg, tail):
    return (RG.format(guid=guid, rg=rg) + tail).lower()


@transaction.atomic
def seed_estate():
    """Create (idempotently) the demo subscriptions, resources and users. Returns them."""
    subs = {}
    for name, guid in (PRODUCTION, DEVELOPMENT):
        sub = Subscription.objects.filter(name=name).first()
        if sub is None:
            sub = create_subscription(name=name, external_id=guid, actor=DEMO_ACTOR,
                                      reason="demo estate")
        subs[(name, guid)] = sub
        for kind, rname, rg, tail, owner, email in RESOURCES[(name, guid)]:
            resource, created = Resource.objects.get_or_create(
                subscription=sub, external_id=resource_id(guid, rg, tail),
                defaults={"kind": kind, "name": rname, "owner_name": owner,
                          "owner_email": email})
            if created and kind == "virtual_machine":
                ResourceHostName.objects.create(subscription=sub, resource=resource, name=rname)
    User = get_user_model()
    for username, password, role in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password,
                                            email=f"{username}@contoso.example")
        for sub in subs.values():
            grant_role(subscription=sub, user=user, role=role, actor=DEMO_ACTOR,
                       reason="demo estate")
    return subs
