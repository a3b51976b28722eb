"""The JSON API at /api/v1/: token authentication, error envelopes, one router per app."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from alerts.api import router as alerts_router
from detections.api import router as detections_router
from incidents.api import router as incidents_router
from inventory.activity_api import router as activity_router
from inventory.api import router as inventory_router
from inventory.tokens import verify_token
from investigation.api import router as investigation_router
from response.api import router as response_router
from search.api import router as search_router
from search.engine import EngineUnavailable
from socconsole.lib.apierrors import ApiError, envelope
from socconsole.lib.jsonbody import BOM, BodyError
from socconsole.lib.jsonsafe import MAX_DEPTH, JSONTooDeep, describe, loads, nul_path
from socconsole.lib.openapi import declare_common_errors
from socconsole.lib.paging import BadCursor
from socconsole.lib.transient import StorageUnavailable, drop_connection, is_transient


class TokenAuth(HttpBearer):
    openapi_description = "An API token: `Authorization: Bearer soc_…`."

    def authenticate(self, request, token):
        return verify_token(token)


class JsonParser(Parser):
    """Bodies read as ingestion reads them (a BOM skipped, NaN and deep nesting refused),
    so that a body that is not JSON is `bad_body` with its reason on every endpoint.

    Every body declared as a schema is a JSON object; ninja would read `[]` as an empty
    one. `null` is no body, as the schema of an optional body says (`anyOf` it and null).
    (The ingest endpoints read their bodies themselves.)"""

    def parse_body(self, request):
        try:
            data = loads(request.body.removeprefix(BOM))
        except UnicodeDecodeError as exc:
            raise BodyError(f"The request body is not valid UTF-8 (byte {exc.start}).") \
                from None
        except JSONTooDeep:
            raise BodyError(f"The request body nests JSON deeper than {MAX_DEPTH} levels.") \
                from None
        except ValueError as exc:
            raise BodyError(f"The request body is not valid JSON: {describe(exc)}") from None
        if data is None:
            return None
        if not isinstance(data, dict):
            raise BodyError("The request body must be a JSON object.")
        # PostgreSQL stores no NUL in text: refused here, for every body a schema reads.
        nul = nul_path(data) if b"\\u0000" in request.body else None
        if nul is not None:
            raise BodyError(f"{nul or 'The body'}: NUL characters (\\u0000) are not allowed.")
        return data


class SocApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        # The error handlers below answer on every operation: say so once, for all.
        return declare_common_errors(super().get_openapi_schema(**kwargs))


api = SocApi(
    title="SOC console API",
    version="1",
    description="Alerts, incidents, search and administration. See docs/api.md.",
    auth=TokenAuth(),
    parser=JsonParser(),
    urls_namespace="api",
)


def _field_of(error):
    loc = [str(p) for p in error.get("loc", ())
           if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(loc) or None


@api.exception_handler(ApiError)
def on_api_error(request, exc):
    return api.create_response(request, envelope(exc.code, exc.message, exc.field),
                               status=exc.status)


@api.exception_handler(StorageUnavailable)
def on_storage_unavailable(request, exc):
    # The database failed for reasons of its own and nothing was stored: try again later.
    response = api.create_response(request, envelope("unavailable", exc.message), status=503)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(EngineUnavailable)
def on_engine_unavailable(request, exc):
    # The events engine did not store (or cannot read) now; nothing was half-stored.
    return on_storage_unavailable(request, StorageUnavailable(
        f"{exc} Nothing of this request was stored; send it again in "
        f"{exc.retry_after} seconds."))


@api.exception_handler(DatabaseError)
def on_database_error(request, exc):
    """A connection lost anywhere else in a request (checking the token, reading a list) is
    the same 503, on a connection dropped for the next request; any other error is a bug."""
    if not is_transient(exc):
        raise exc
    drop_connection()
    return on_storage_unavailable(request, StorageUnavailable(
        f"The database is unavailable right now. Send the request again in "
        f"{StorageUnavailable.retry_after} seconds."))


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    response = api.create_response(
        request, envelope("unauthenticated", "A valid API token is required "
                          "(Authorization: Bearer soc_…)."), status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    first = exc.errors[0] if exc.errors else {}
    message = first.get("msg", "Invalid request.")
    field = _field_of(first)
    return api.create_response(request, envelope("invalid", f"{field}: {message}" if field
                                                  else message, field), status=400)


@api.exception_handler(BadCursor)
def on_bad_cursor(request, exc):
    return api.create_response(request, envelope("bad_cursor", str(exc), "cursor"), status=400)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, envelope("not_found", "No such object."), status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return api.create_response(request, envelope("forbidden", str(exc) or "Not allowed."),
                               status=403)


@api.exception_handler(RequestDataTooBig)
def on_too_large(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api.create_response(request, envelope(
        "too_large", f"The body is larger than the limit of {limit} bytes (MAX_REQUEST_BYTES)."),
        status=413)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    # ninja answers a body its parser refused with HttpError(400, "Cannot parse request
    # body") raised from the parser's error.
    if isinstance(exc.__cause__, BodyError):
        return api.create_response(request, envelope("bad_body", exc.__cause__.message),
                                   status=400)
    return api.create_response(request, envelope("error", str(exc)), status=exc.status_code)


api.add_router("/", inventory_router)
api.add_router("/", activity_router)
api.add_router("/", investigation_router)  # before alerts: /alerts/{id}/graph
api.add_router("/", alerts_router)
api.add_router("/", incidents_router)
api.add_router("/", search_router)
api.add_router("/", response_router)
api.add_router("/", detections_router)
