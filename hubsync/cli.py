"""The `hubsync` command. Each sub-command parses its options, then calls one function."""

from __future__ import annotations

import typer

from hubsync import __version__

app = typer.Typer(
    name="hubsync",
    help="Lead scoring for HubSpot: pull, score locally, write back scores, segments, reasons and sales tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hubsync {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Lead scoring for HubSpot."""


def main() -> None:
    app()
