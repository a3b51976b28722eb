"""The API's error envelope: {"error": {"code", "message", "field"}}."""

from ninja import Schema


class ApiError(Exception):
    def __init__(self, status, code, message, field=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class ItemError(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ItemError


def envelope(code, message, field=None):
    return {"error": {"code": code, "message": message, "field": field}}


def read_body(request, limit):
    """The request body, refusing (413) more than `limit` bytes before reading it all."""
    if "CONTENT_LENGTH" not in request.META and request.META.get("HTTP_TRANSFER_ENCODING"):
        raise ApiError(411, "length_required", "Send the body with a Content-Length "
                       "(chunked transfer encoding is not supported).")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "Content-Length is not a number.") from None
    if declared > limit:
        raise ApiError(413, "too_large", f"The body is {declared} bytes; the limit is {limit}.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise ApiError(413, "too_large", f"The body is larger than the limit of {limit} bytes.")
    return body
