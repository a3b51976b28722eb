from django import template
from django.utils import timezone

from alerts.tactics import LABELS

register = template.Library()


@register.filter
def since(moment):
    """A compact age: 45 s, 12 min, 3 h, 4 d."""
    if moment is None:
        return ""
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@register.filter
def tactic_label(name):
    return LABELS.get(name, name)


@register.filter
def overdue(incident):
    """Active, unacknowledged and past its severity's time to acknowledge."""
    from incidents.queries import is_overdue

    return is_overdue(incident, timezone.now())


@register.filter
def duration(delta):
    if delta is None:
        return "—"
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"
