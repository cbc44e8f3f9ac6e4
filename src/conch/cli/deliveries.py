"""``conch deliveries TASK_ID``: a task's callback pushes and every attempt, for operators.

It reads the database under the data dir directly (no API key: whoever holds the data dir
sees every task), and shows what ``GET /v1/tasks/{task_id}/deliveries`` shows its owner.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from conch.api.delivery_view import delivery_view
from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.store.db import open_database
from conch.store.outbox import Attempt, DeliveryHistory, Outbox


@click.command()
@click.argument("task_id")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the endpoint's JSON instead.")
def deliveries(task_id: str, data_dir: Path | None, as_json: bool) -> None:
    """Show the callback pushes of task TASK_ID (its id, or its uuid / unique_id)."""
    settings = settings_from(data_dir=data_dir)
    require_data_dir(settings)
    outbox = Outbox(open_database(settings.database))
    found = outbox.task_id_for(task_id)
    if found is None:
        raise click.ClickException(f"no task {task_id} in {settings.data_dir.resolve()}")
    histories = outbox.history(found)
    if as_json:
        views = [delivery_view(history).model_dump() for history in histories]
        click.echo(json.dumps({"task_id": str(found), "deliveries": views}, indent=2))
        return
    if not histories:
        click.echo(f"task {found} has no callback pushes (no callback URL, or no push yet)")
    for history in histories:
        click.echo(_describe(history))


def _describe(history: DeliveryHistory) -> str:
    delivery = history.delivery
    lines = [
        f"#{delivery.seq} {delivery.event.value:<10} {delivery.state.value:<9} "
        f"{delivery.webhook_id}  {delivery.url}",
        f"   {delivery.outcome or 'not attempted yet'}",
    ]
    if delivery.finished_at is None:
        lines.append(f"   next attempt: {_time(delivery.next_attempt_at)}")
    lines.extend(f"   {_attempt(attempt)}" for attempt in history.attempts)
    return "\n".join(lines)


def _attempt(attempt: Attempt) -> str:
    answer = f"HTTP {attempt.http_status}" if attempt.http_status else attempt.error
    took = f"{attempt.duration:.2f} s"
    return f"attempt {attempt.number} at {_time(attempt.started_at)} ({took}): {answer}"


def _time(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
