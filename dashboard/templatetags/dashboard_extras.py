from django import template

from dashboard.drawing import duration as _duration

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    return _duration(seconds)


@register.filter
def share(part: int, whole: int) -> str:
    """A percentage without decimals: 0 of 0 is 0 %."""
    return f"{round(100 * part / whole) if whole else 0} %"
