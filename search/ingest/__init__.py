"""Event ingestion: items → mapped events → COPY into search_event."""

from .store import EventReport, ingest_event_body, ingest_event_items  # noqa: F401
