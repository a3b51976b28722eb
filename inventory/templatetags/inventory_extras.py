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
