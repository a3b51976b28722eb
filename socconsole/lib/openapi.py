"""The answers every API operation can give, declared once in the OpenAPI schema.

The error handlers of socconsole/api.py answer these on any operation (a bad parameter,
a missing token, a scope the token lacks, a transient database failure), so the schema
lists them on every operation instead of each endpoint repeating them.
"""

ERROR_REF = "#/components/schemas/Error"

ERROR_COMPONENTS = {
    "Error": {
        "title": "Error",
        "type": "object",
        "description": "The error envelope of every refusal. `code` is one of the codes of "
                       "docs/api.md; `field` names the parameter or body field at fault.",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        "required": ["error"],
    },
    "ErrorDetail": {
        "title": "ErrorDetail",
        "type": "object",
        "properties": {
            "code": {"type": "string", "title": "Code"},
            "message": {"type": "string", "title": "Message"},
            "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Field"},
        },
        "required": ["code", "message", "field"],
    },
}


def _json_error(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}
    if headers:
        response["headers"] = headers
    return response


COMMON = {
    "400": _json_error("Bad input: `invalid` (a parameter or body field, named in `field`), "
                       "`bad_body` (the body is not the JSON it should be), `bad_cursor`, "
                       "`bad_table`, `bad_request`."),
    "401": _json_error("`unauthenticated`: no token, an unknown or revoked one, or not "
                       "`Authorization: Bearer …`.",
                       {"WWW-Authenticate": {"schema": {"type": "string"},
                                             "description": "`Bearer`."}}),
    "403": _json_error("`forbidden`: the token's scopes, or its user's current role, do not "
                       "allow this call."),
    "414": {"description": "The request line is too long: the server (gunicorn: over 4,094 "
                           "bytes) refuses it before the application reads it, with a body "
                           "of its own."},
    "431": {"description": "A header is too large, or there are too many: the server "
                           "(gunicorn: over 8,190 bytes, over 100 headers) refuses the request "
                           "before the application reads it, with a body of its own."},
    "503": _json_error("`unavailable`: the database failed for a moment (a lost connection, a "
                       "serialization failure, a deadlock); nothing was stored. Retry after "
                       "`Retry-After` seconds.",
                       {"Retry-After": {"schema": {"type": "integer"},
                                        "description": "Seconds to wait before retrying."}}),
}
NOT_FOUND = _json_error("`not_found`: no such object in the token's subscription (another "
                        "subscription's objects are not found either).")
WITH_BODY = {
    "411": _json_error("`length_required`: a chunked body on a server that cannot read one "
                       "(`make run`'s development server); gunicorn reads it."),
    "413": _json_error("`too_large`: the body is over the endpoint's limit."),
}


def declare_common_errors(schema: dict) -> dict:
    """Add the common error answers to each operation of `schema` that does not declare
    its own for that status; a 404 where the path names an object, 411 and 413 where
    there is a body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(ERROR_COMPONENTS)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            declared = {int(status) for status in responses}
            extra = dict(COMMON)
            if "{" in path:
                extra["404"] = NOT_FOUND
            if "requestBody" in operation:
                extra.update(WITH_BODY)
            for status, response in extra.items():
                if int(status) not in declared:
                    responses[int(status)] = response
    return schema
