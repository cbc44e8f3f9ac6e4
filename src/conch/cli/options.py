"""Options shared by the commands that open a data dir, and turning them into Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from conch.config import Settings

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where tasks, keys and media live [env CONCH_DATA_DIR; default ./var].",
)


class MissingDataDir(click.ClickException):
    """A command that only reads was pointed at a data dir that does not exist."""

    exit_code = 2


def require_data_dir(settings: Settings) -> None:
    """Refuse to read a data dir that does not exist (reading never creates one)."""
    folder = settings.data_dir.resolve()
    if not folder.is_dir():
        raise MissingDataDir(
            f"no conch data dir at {folder}: nothing has run there. Pass --data-dir (or set "
            "CONCH_DATA_DIR) to the folder `conch serve` uses, or --server to ask a server"
        )


def settings_from(**options: Any) -> Settings:
    """Settings with the options that were given on the command line applied on top."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**given)
    except Exception as error:  # pydantic explains which setting is wrong
        raise click.UsageError(f"invalid settings: {error}") from error
