"""alert_api stage of the Shouwang pipeline."""
