"""rules stage of the Shouwang pipeline."""
