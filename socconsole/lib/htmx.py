def is_partial(request):
    """True for an htmx request that wants a fragment; boosted requests get full pages."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted

