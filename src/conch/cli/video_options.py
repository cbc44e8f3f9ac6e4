"""Options of the commands that wait for a video and download it (``generate``, ``tasks``).

They live apart from ``options`` so that the commands which only open a data dir do not
import the SDK."""

from __future__ import annotations

from pathlib import Path

import click

from conch.client.backoff import WAIT_TIMEOUT

output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the MP4 goes [default: <task id>.mp4].",
)

timeout_option = click.option(
    "--timeout", type=float, default=WAIT_TIMEOUT, show_default=True, help="Seconds to wait."
)
