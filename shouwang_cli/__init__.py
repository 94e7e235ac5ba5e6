"""The `shouwang` command: every stage's commands under one entry point, and what needs several
stages at once (the demo, the health view, broker ACLs, the configuration reference)."""
