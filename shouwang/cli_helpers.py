"""What the command-line modules of every stage share: the error exit and the common options."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)
"""Messages for the operator (stderr; stdout is for results a script may read)."""

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $SHOUWANG_CONFIG)."),
]
JsonLogsOption = Annotated[
    bool | None, typer.Option("--json-logs/--text-logs", help="Log format (default: auto).")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error on stderr; returns the exit to raise."""
    console.print(f"error: {message}", soft_wrap=True, highlight=False, markup=False, style="red")
    return typer.Exit(code=code)
