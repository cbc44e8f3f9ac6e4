"""The ``conch`` command: serve, keys, and (with the SDK) generate and tasks.

Every option also comes from a ``CONCH_*`` environment variable or ``conch.toml``; an
option given on the command line wins.
"""

from __future__ import annotations

import click

from conch import __version__
from conch.cli.db import db
from conch.cli.deliveries import deliveries
from conch.cli.generate import generate
from conch.cli.keys import keys
from conch.cli.serve import serve
from conch.cli.tasks import tasks
from conch.cli.usage import usage
from conch.cli.worker import worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="conch")
def main() -> None:
    """conch: a self-hostable MiniMax Hailuo-compatible video-generation service."""


main.add_command(serve)
main.add_command(keys)
main.add_command(deliveries)
main.add_command(generate)
main.add_command(tasks)
main.add_command(db)
main.add_command(usage)
main.add_command(worker)
