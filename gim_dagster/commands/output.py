"""What every `gim` command prints to the user: progress and errors on stderr, one line per error."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line reason and return the exit (code 2) to raise (the reason is text, not markup:
    ``pip install 'gim-dagster[local]'`` keeps its brackets)."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=2)
