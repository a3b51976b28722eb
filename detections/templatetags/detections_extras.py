"""What the queue asks of detections: whether an incident names an entity an indicator
marks (its badge)."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def intel_badge(context, incident):
    from detections.models import EntityMatch

    request = context.get("request")
    cache = getattr(request, "_soc_intel", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._soc_intel = cache
    sub = incident.subscription_id
    if sub not in cache:  # one query a page when the subscription has no marks at all
        cache[sub] = EntityMatch.objects.filter(subscription_id=sub).exists()
    if not cache[sub]:
        return ""
    hits = (EntityMatch.objects.filter(
        subscription_id=sub, entity__mentions__alert__membership__incident_id=incident.pk)
        .values_list("indicator__value", flat=True).distinct()[:3])
    hits = list(hits)
    if not hits:
        return ""
    return format_html('<span class="tag tag-intel" title="Named by threat intelligence: {}">'
                       'threat intel</span>', ", ".join(hits))
