from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.utils.cache import patch_vary_headers

# No inline script may run: attacker-written alert text must never become code.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # One URL serves a page and its htmx fragment: caches must keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login; the JSON API authenticates with tokens instead."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        if request.htmx:
            # A full redirect inside a fragment would paste the login page into the table:
            # send the whole page to the login, coming back to where the user was.
            from urllib.parse import urlencode

            from django.http import HttpResponse
            from django.shortcuts import resolve_url

            back = request.htmx.current_url_abs_path or request.get_full_path()
            response = HttpResponse(status=204)
            response["HX-Redirect"] = (f"{resolve_url(self.get_login_url(view_func))}?"
                                       f"{urlencode({'next': back})}")
            return response
        return super().handle_no_permission(request, view_func)


class ForwardedHeadersMiddleware:
    """X-Forwarded-For and -Proto count only from TRUSTED_PROXIES: a client that reaches the
    app past its proxy cannot claim another address (and dodge the sign-in limits) or HTTPS."""

    HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        from socconsole.lib.net import is_trusted

        if not is_trusted(request.META.get("REMOTE_ADDR"), settings.TRUSTED_PROXIES):
            for name in self.HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)


class HealthCheckMiddleware:
    """Answers /healthz before host checks and HTTPS redirects, for container health probes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != "/healthz":
            return self.get_response(request)
        from django.db import connection
        from django.http import JsonResponse

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # noqa: BLE001 — any failure means "not healthy"
            return JsonResponse({"status": "database unavailable"}, status=503)
        return JsonResponse({"status": "ok"})


class ApiErrorShapeMiddleware:
    """Under /api/ every error is the JSON envelope, even Django's own 404 and 405."""

    CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
             411: "length_required", 413: "too_large", 500: "server_error"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith("/api/") or response.status_code < 400 or \
                response.get("Content-Type", "").startswith("application/json") or \
                request.path_info.startswith("/api/v1/docs"):
            return response
        from django.http import JsonResponse

        from socconsole.lib.apierrors import envelope

        status = response.status_code
        message = {404: "No such endpoint or object.",
                   405: f"Method {request.method} is not allowed here."}.get(
            status, response.reason_phrase or "Error.")
        shaped = JsonResponse(envelope(self.CODES.get(status, "error"), message), status=status)
        if "Allow" in response:
            shaped["Allow"] = response["Allow"]
        return shaped


NUL = "\x00"


def nul_field(request) -> str | None:
    """The first parameter (query string, or form body outside the API) whose name or value
    holds a NUL character; None when there is none."""
    sources = [request.GET]
    # The API reads JSON bodies (its parser refuses NUL there); ingest reads its own body.
    if request.method == "POST" and not request.path_info.startswith("/api/"):
        sources.append(request.POST)
    for data in sources:
        for name, values in data.lists():
            if NUL in name or any(NUL in v for v in values if isinstance(v, str)):
                return name.replace(NUL, "")
    return None


class RefuseNulMiddleware:
    """NUL is refused in every parameter and form field, in one place: PostgreSQL cannot
    store or compare it in text (a 500 otherwise), and no name or comment needs it.
    (Django's form fields refuse it too; this covers the views that read request.POST.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        message = f"{field or 'A parameter'}: NUL characters (\\u0000) are not allowed."
        if request.path_info.startswith("/api/"):
            from django.http import JsonResponse

            from socconsole.lib.apierrors import envelope

            return JsonResponse(envelope("invalid", message, field or None), status=400)
        from socconsole.errors import page

        return page(request, 400, "Bad request", message)
