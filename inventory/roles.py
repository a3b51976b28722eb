"""The roles table of DESIGN.md: the single source of who may do what.

Views, the API, templates and tokens all ask `role_allows` / `token_allows`;
nothing else decides permissions.
"""

from enum import StrEnum


class Role(StrEnum):
    ANALYST = "analyst"
    SHIFT_LEAD = "shift_lead"
    ADMIN = "admin"

    @property
    def label(self):
        return {"analyst": "Analyst", "shift_lead": "Shift lead", "admin": "Admin"}[self.value]


class Perm(StrEnum):
    VIEW = "view"                  # alerts, incidents, investigations, events
    TRIAGE = "triage"              # dismiss, activate, resolve, comment, take, escalate
    INVESTIGATE = "investigate"    # start / continue investigations
    SEARCH = "search"              # run searches, save queries
    # RESPOND and DETECTIONS are granted now and checked by the features that bring them
    # (response/, detections/), so that a role's rights do not change when they land.
    RESPOND = "respond"            # block an address, request a response action
    LEAD = "lead"                  # assign to others, acknowledge escalations, reopen, suppression
    DETECTIONS = "detections"      # detection rules, indicators, webhooks
    ADMINISTER = "administer"      # Defender plan, auto-provisioning, people, roles, tokens
    ACTIVITY = "activity"          # read the activity log
    INGEST = "ingest"              # send alerts and events (tokens)


ROLE_PERMISSIONS = {
    Role.ANALYST: frozenset({
        Perm.VIEW, Perm.TRIAGE, Perm.INVESTIGATE, Perm.SEARCH, Perm.RESPOND, Perm.ACTIVITY,
        Perm.INGEST,
    }),
    Role.SHIFT_LEAD: frozenset({
        Perm.VIEW, Perm.TRIAGE, Perm.INVESTIGATE, Perm.SEARCH, Perm.RESPOND, Perm.LEAD,
        Perm.DETECTIONS, Perm.ACTIVITY, Perm.INGEST,
    }),
    Role.ADMIN: frozenset({
        Perm.VIEW, Perm.SEARCH, Perm.DETECTIONS, Perm.ADMINISTER, Perm.ACTIVITY, Perm.INGEST,
    }),
}


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    ACT = "act"
    ADMIN = "admin"


SCOPE_PERMISSIONS = {
    Scope.INGEST: frozenset({Perm.INGEST}),
    Scope.READ: frozenset({Perm.VIEW, Perm.SEARCH, Perm.ACTIVITY}),
    Scope.ACT: frozenset({Perm.TRIAGE, Perm.INVESTIGATE, Perm.RESPOND, Perm.LEAD,
                          Perm.DETECTIONS}),
    Scope.ADMIN: frozenset({Perm.ADMINISTER}),
}

# A token without a user is a service identity: it may only send and read.
SERVICE_SCOPES = frozenset({Scope.INGEST, Scope.READ})
DEFAULT_SCOPES = (Scope.INGEST, Scope.READ)


def role_allows(role, perm):
    if role is None:
        return False
    return Perm(perm) in ROLE_PERMISSIONS[Role(role)]


def scopes_allow(scopes, perm):
    return any(Perm(perm) in SCOPE_PERMISSIONS[Scope(s)] for s in scopes)


def parse_scopes(text):
    """'ingest,read' -> (Scope.INGEST, Scope.READ); ValueError naming a bad scope."""
    scopes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            scope = Scope(part)
        except ValueError:
            raise ValueError(f"Unknown scope {part!r}: use {', '.join(Scope)}.") from None
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise ValueError("At least one scope is required.")
    return tuple(scopes)
