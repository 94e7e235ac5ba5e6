"""`python -m shouwang`: the same as the `shouwang` command."""

from shouwang_cli.main import app

app()
