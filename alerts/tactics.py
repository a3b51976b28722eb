"""MITRE ATT&CK tactics in kill-chain order, as Defender names them (its `intent`)."""

KILL_CHAIN = [
    ("PreAttack", "Pre-attack"),
    ("Probing", "Probing"),
    ("InitialAccess", "Initial access"),
    ("Exploitation", "Exploitation"),
    ("Execution", "Execution"),
    ("Persistence", "Persistence"),
    ("PrivilegeEscalation", "Privilege escalation"),
    ("DefenseEvasion", "Defense evasion"),
    ("CredentialAccess", "Credential access"),
    ("Discovery", "Discovery"),
    ("LateralMovement", "Lateral movement"),
    ("Collection", "Collection"),
    ("CommandAndControl", "Command and control"),
    ("Exfiltration", "Exfiltration"),
    ("Impact", "Impact"),
]
ORDER = {name: i for i, (name, _) in enumerate(KILL_CHAIN)}


def strip(tactics):
    """[(name, label, present)] for every stage, in kill-chain order."""
    present = set(tactics)
    return [(name, label, name in present) for name, label in KILL_CHAIN]


def in_order(tactics):
    """The given tactics sorted by kill-chain stage (unknown ones last)."""
    return sorted(set(tactics), key=lambda t: (ORDER.get(t, len(ORDER)), t))

LABELS = dict(KILL_CHAIN)
