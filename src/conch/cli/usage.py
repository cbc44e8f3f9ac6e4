"""``conch usage``: tasks and video-seconds (delivered, charged, refunded) per key and model."""

from __future__ import annotations

import csv
import sys
from dataclasses import astuple, fields
from datetime import UTC, datetime
from pathlib import Path

import click

from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.services import Services
from conch.store.usage import Usage, report

COLUMNS = [field.name for field in fields(Usage)]


@click.command()
@click.option("--key", "key_id", type=int, default=None, help="Only this key's use.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only tasks submitted on or after DATE (YYYY-MM-DD, UTC).",
)
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row, for a spreadsheet.")
@data_dir_option
def usage(key_id: int | None, since: datetime | None, as_csv: bool, data_dir: Path | None) -> None:
    """Tasks, and seconds of video delivered, charged and refunded, per key and model."""
    settings = settings_from(data_dir=data_dir)
    require_data_dir(settings)
    services = Services.open(settings)
    start = None if since is None else since.replace(tzinfo=UTC).timestamp()
    rows = report(services.db, key_id=key_id, since=start)
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)
        return
    click.echo("\t".join(COLUMNS))
    for row in rows:
        click.echo("\t".join(str(value) for value in astuple(row)))
