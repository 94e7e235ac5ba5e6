"""ingest stage of the Shouwang pipeline."""
