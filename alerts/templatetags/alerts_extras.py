from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

from alerts.models import Severity

register = template.Library()
# How much of a free-text field (a title, a resource's name) a list shows; its own page
# shows the whole stored value.
LIST_CHARS = 200


@register.filter
def clip(value, length=LIST_CHARS):
    """The text cut to `length` characters with "…", the whole of it in a tooltip."""
    text = "" if value is None else str(value)
    if len(text) <= length:
        return text
    return format_html('<span class="clipped" title="{}">{}…</span>', text,
                       text[:length - 1])


@register.filter
def web_url(value):
    """The value if it is an absolute http(s) URL, else "" (never a javascript: link)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return text
    return ""


@register.filter
def severity_word(rank):
    try:
        return Severity(rank).label
    except ValueError:
        return ""


@register.filter
def scalar(value):
    """A property value as one line of text (lists and objects as compact JSON)."""
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    return str(value)
