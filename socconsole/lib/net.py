def client_address(request, trusted_proxies=0):
    """The client's address, trusting only the last `trusted_proxies` X-Forwarded-For hops."""
    if trusted_proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies]
    return request.META.get("REMOTE_ADDR") or None
