"""Files named on a command line, read for ingestion (`ingest_alerts`, `ingest_events`)."""

import json
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError

from socconsole.lib.jsonbody import BOM, BodyError
from socconsole.lib.transient import StorageUnavailable

NDJSON = "application/x-ndjson"
JSON = "application/json"
NDJSON_SUFFIXES = (".jsonl", ".ndjson")


def content_type_of(path: Path, body: bytes) -> str:
    """NDJSON for a .jsonl or .ndjson file, or for any file whose first line is a whole JSON
    value with more after it (no JSON document can be that); JSON otherwise, so that a
    pretty-printed document, whatever its name, is read as one."""
    if path.suffix.lower() in NDJSON_SUFFIXES:
        return NDJSON
    text = body.removeprefix(BOM).lstrip()
    first, _, rest = text.partition(b"\n")
    if not rest.strip():
        return JSON
    try:
        json.loads(first)
    except (ValueError, RecursionError):  # not UTF-8, not whole, or too deep to tell
        return JSON
    return NDJSON


def ingest_files(names: list[str], ingest: Callable[[str, bytes, str], None],
                 stderr) -> bool:
    """Call `ingest(name, body, content_type)` for each file, in order. A file that cannot
    be read stops the command (CommandError); a body the parser refuses, or one the
    database could not store after its retries, is said on `stderr` and the other files
    go on. Returns False when some file was not ingested."""
    ok = True
    for name in names:
        path = Path(name)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror}") from exc
        try:
            ingest(name, body, content_type_of(path, body))
        except (BodyError, StorageUnavailable) as exc:
            stderr.write(f"{name}: not ingested: {exc}")
            ok = False
    return ok
