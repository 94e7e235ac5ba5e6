"""edge stage of the Shouwang pipeline."""
