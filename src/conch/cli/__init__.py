"""The ``conch`` command: serve, keys, and (with the SDK) generate and tasks.

Every option also comes from a ``CONCH_*`` environment variable or ``conch.toml``; an
option given on the command line wins. Each subcommand's module is imported only when it
runs, so ``conch tasks`` does not load the server and ``conch keys`` does not load the SDK.
"""

from __future__ import annotations

import click

from conch import __version__
from conch.cli.lazy import LazyGroup

COMMANDS = {
    name: f"conch.cli.{name}:{name}"
    for name in ("serve", "keys", "deliveries", "generate", "tasks", "db", "usage", "worker")
}
"""Each subcommand, by the module and attribute that define it."""


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="conch")
def main() -> None:
    """conch: a self-hostable MiniMax Hailuo-compatible video-generation service."""
