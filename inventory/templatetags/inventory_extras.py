from django import template

register = template.Library()


def _text(value):
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@register.simple_tag
def changes(before, after):
    """[(field, before, after)] of an activity row, values as short text."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, _text(before[k]) if k in before else None, _text(after.get(k)))
            for k in keys if before.get(k) != after.get(k) or k not in before]


VERDICTS = {"false_positive": "false positive", "benign_positive": "benign positive",
            "not_applicable": "not applicable", "true_positive": "true positive"}
# verb -> what the actor did, in words; {verdict}, {to}, {assignee}, {label} are filled in.
WORDS = {
    "incident.dismiss": "dismissed it as {verdict}",
    "incident.resolve": "resolved it ({verdict})",
    "incident.activate": "made it active again",
    "incident.comment": "commented",
    "incident.take": "took it",
    "incident.assign": "assigned it to {assignee}",
    "incident.escalate": "escalated it to {to}",
    "incident.acknowledge": "acknowledged the escalation",
    "incident.merge": "merged another incident into it",
    "incident.reopen": "reopened it: a new alert came",
    "alert.dismiss": "dismissed the alert {label} as {verdict}",
    "alert.resolve": "resolved the alert {label} ({verdict})",
    "alert.activate": "made the alert {label} active again",
    "alert.comment": "commented on the alert {label}",
    "alert.suppress": "dismissed the alert {label} as {verdict}",
    "alerts.arrived": "{label}",
}
ESCALATED_TO = {"leads": "the shift leads", "owner": "the workload owner"}


@register.filter
def activity_words(entry):
    """What an activity entry says in words ("dismissed it as false positive"); the verb
    code where there are no words for it. Plain text: the template escapes it."""
    pattern = WORDS.get(entry.verb)
    if pattern is None:
        return entry.verb
    after = entry.after if isinstance(entry.after, dict) else {}
    return pattern.format(
        verdict=VERDICTS.get(after.get("verdict", ""), after.get("verdict") or "no verdict"),
        to=ESCALATED_TO.get(after.get("to", ""), after.get("to") or "someone"),
        assignee=after.get("assigned_to") or "someone",
        label=f"«{entry.target_label}»" if entry.verb != "alerts.arrived" else
        entry.target_label)


@register.inclusion_tag("inventory/partials/plan_banner.html", takes_context=True)
def plan_banner(context, subscription):
    """The Defender plan's banner: off since…, or off lately (its refused items can be
    replayed); nothing, and no query, when the plan is on and has been for a while."""
    from inventory.plans import banner_period

    return {"period": banner_period(subscription), "subscription": subscription,
            "can": context.get("can", {})}
