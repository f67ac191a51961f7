"""Head office: ingest, matching, feeds and dashboard."""
