"""Event ingestion: items → mapped events → one batch into the events engine."""

from .store import EventReport, ingest_event_body, ingest_event_items  # noqa: F401
