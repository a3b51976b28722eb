"""Chunked request bodies (`Transfer-Encoding: chunked`, no Content-Length), read where the
WSGI server decodes them.

Django reads CONTENT_LENGTH bytes of a body, so none without one: a chunked body would
reach every view as empty. Where the server has decoded the chunks and ends the input
stream (`wsgi.input_terminated`, as gunicorn does) the body is read here, up to the
ingest limit, and passed on with its length. Where it has not (`make run`'s development
server), the API refuses it with 411 rather than act on an empty body.
"""

import json
from io import BytesIO


def _chunked(environ: dict) -> bool:
    return not environ.get("CONTENT_LENGTH") and \
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _refuse(start_response, status: str, code: str, message: str) -> list[bytes]:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), ("Connection", "close")])
    return [body]


class ChunkedBodies:
    """WSGI middleware around the Django application (socconsole/wsgi.py)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if _chunked(environ):
            from django.conf import settings

            limit = settings.INGEST_MAX_BYTES
            if not environ.get("wsgi.input_terminated"):
                if environ.get("PATH_INFO", "").startswith("/api/"):
                    return _refuse(start_response, "411 Length Required", "length_required",
                                   "Send the body with a Content-Length: this server cannot "
                                   "read a chunked body.")
                return self.app(environ, start_response)
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _refuse(start_response, "413 Content Too Large", "too_large",
                               f"The body is larger than the limit of {limit} bytes.")
            environ = {**environ, "wsgi.input": BytesIO(body),
                       "CONTENT_LENGTH": str(len(body))}
        return self.app(environ, start_response)
