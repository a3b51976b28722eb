"""Alert ingestion: parse (alerts.ingest.parse), then store (alerts.ingest.store)."""
