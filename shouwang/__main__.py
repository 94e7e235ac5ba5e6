"""`python -m shouwang`: the same as the `shouwang` command."""

from shouwang.cli import app

app()
