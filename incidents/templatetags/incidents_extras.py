import re
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

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


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?")


def _moment(value):
    """A datetime for a datetime or an ISO 8601 string (as events and props carry them)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_TIME.fullmatch(value.strip()):
        text = value.strip().replace("Z", "+00:00")
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Python reads microseconds at most
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


@register.filter
def when(value):
    """A time as the console shows it: UTC, to the second, its age on hover
    (<time title="3 h ago">2026-12-06 16:17:05 UTC</time>); any other value as it is."""
    moment = _moment(value)
    if moment is None:
        return value
    moment = moment.astimezone(UTC)
    return format_html('<time datetime="{}" title="{} ago">{} UTC</time>',
                       moment.isoformat(), since(moment), moment.strftime("%Y-%m-%d %H:%M:%S"))


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
