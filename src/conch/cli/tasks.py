"""``conch tasks list | show ID | download ID | cancel ID``: tasks on a server, or in the local
data dir.

Against a server, ``list`` pages through every task of the key, newest first: through the
dialect's own list call (Chanjing) or conch's. A server that has neither (MiniMax itself)
gets the tasks this machine submitted to it (the journal kept by ``conch generate``), each
with its status now. In-process, the data dir must exist: reading never creates one.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from conch.cli.generate import run_to_video
from conch.cli.profiles import ServiceChoice, service_options
from conch.cli.video_options import output_option, timeout_option
from conch.client import Client, Page, Status, Unsupported
from conch.client.journal import Journal
from conch.domain.errors import ConchError
from conch.wire.native import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from conch.runner.inprocess import LocalClient


@click.group()
def tasks() -> None:
    """List, show, download and cancel tasks (on a server, or in the local data dir)."""


@tasks.command("list")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_PAGE_SIZE),
    default=20,
    show_default=True,
    help="Tasks on the page.",
)
@click.option(
    "--after",
    metavar="TASK_ID",
    help="Start after this task: the cursor the page before printed (`more: ...`).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per task and line.")
@service_options(
    in_process="the tasks in --data-dir are listed, whoever submitted them", reads=True
)
def list_tasks(limit: int, after: str | None, as_json: bool, service: ServiceChoice) -> None:
    """The latest tasks, newest first, a page at a time."""
    with service.open() as client:
        try:
            page = _page(client, service, limit, after)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
    if as_json:
        for status in page.tasks:
            click.echo(json.dumps(_summary(status), ensure_ascii=False))
    elif page.tasks:
        click.echo("\n".join(table(page.tasks)))
    else:
        click.echo("no tasks", err=True)
    if page.next_after is not None:
        click.echo(f"more: conch tasks list --after {page.next_after}", err=True)


@tasks.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="The provider's whole answer, as JSON.")
@service_options(in_process="the task is read from --data-dir", reads=True)
def show(task_id: str, as_json: bool, service: ServiceChoice) -> None:
    """A task's status."""
    with service.open() as client:
        try:
            status = client.status(task_id)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
        # In the operator's own data dir: the relay's upstream calls and their reasons.
        relayed = [] if isinstance(client, Client) else client.relay_calls(task_id)
    if as_json:
        click.echo(json.dumps(status.raw, indent=2, ensure_ascii=False, default=str))
        return
    for name, value in _summary(status).items():
        if value not in (None, "", []):
            click.echo(f"{name + ':':<17}{value}")
    for call in relayed:
        upstream_id = call.upstream_task_id or "id unknown"
        line = f"{call.upstream} ({call.dialect}) task {upstream_id}: {call.state}"
        click.echo(f"{'relay:':<17}{line}" + (f": {call.outcome}" if call.outcome else ""))


@tasks.command("download")
@click.argument("task_id")
@output_option
@timeout_option
@service_options(in_process="the task is read from --data-dir, and run here if queued", reads=True)
def download(task_id: str, output: Path | None, timeout: float, service: ServiceChoice) -> None:
    """Wait for a task if it is still running, download its video, print where it went.

    Without -o, the video goes where `conch generate` was to put it (so an interrupted
    download resumes where it stopped), else to <task id>.mp4. In-process, a queued task is
    run here.
    """
    output = output if output is not None else _journal_output(service, task_id)
    with service.open() as client:
        video = run_to_video(service, client, task_id, output, timeout)
    click.echo(str(video.path))


@tasks.command("cancel")
@click.argument("task_id")
@service_options(in_process="the task in --data-dir is cancelled, whoever submitted it", reads=True)
def cancel(task_id: str, service: ServiceChoice) -> None:
    """Cancel a queued or running task: it never starts, or its render stops (within 2 s).

    Through the dialect's own cancel call (MiniMax v2, /v1/videos), else conch's own. A
    task that has ended is refused, with how it ended.
    """
    with service.open() as client:
        try:
            status = client.cancel(task_id)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
    reason = f" ({status.failure.message})" if status.failure else ""
    click.echo(f"{status.task_id}: {status.state.value}{reason}")


def _journal_output(service: ServiceChoice, task_id: str) -> Path | None:
    """Where `conch generate` on this machine was to put the task's video, if it kept it."""
    if service.in_process:
        return None
    journal = Journal.default()
    try:
        entry = journal.find(service.label, task_id)
    except OSError as error:
        click.echo(f"warning: cannot read {journal.path}: {error}", err=True)
        return None
    return Path(entry.output) if entry is not None and entry.output else None


def _page(
    client: Client | LocalClient, service: ServiceChoice, limit: int, after: str | None
) -> Page:
    try:
        return client.list(limit, after)
    except Unsupported as unsupported:
        if after is not None:
            raise
        click.echo(f"{unsupported}; showing the tasks this machine submitted to it", err=True)
    return Page(_journal_tasks(client, service, limit))


def _journal_tasks(
    client: Client | LocalClient, service: ServiceChoice, limit: int
) -> list[Status]:
    """The tasks ``conch generate`` on this machine submitted to the service, as they are now."""
    journal = Journal.default()
    try:
        entries = journal.entries(service.label)[:limit]
    except OSError as error:
        raise click.ClickException(f"cannot read {journal.path}: {error}") from error
    found = []
    for entry in entries:
        try:
            found.append(client.status(entry.task_id))
        except ConchError as error:  # one gone task does not hide the others
            click.echo(f"{entry.task_id}: {error}", err=True)
    return found


def _summary(status: Status) -> dict[str, object]:
    size = f"{status.width}x{status.height}" if status.width and status.height else None
    failure = status.failure
    return {
        "task_id": status.task_id,
        "state": status.state.value,
        "provider_status": status.provider_status,
        "progress": None if status.progress is None else round(status.progress, 3),
        "size": size,
        "file_id": status.file_id,
        "video_urls": list(status.video_urls),
        "failure": failure.message if failure else None,
        "failure_code": failure.provider_code if failure else None,
        "model": status.model,
        "mode": status.mode,
        "duration": status.duration,
        "resolution": status.resolution,
        "created_at": status.created_at,
        "prompt": status.prompt,
    }


COLUMNS = ("TASK ID", "STATUS", "MODEL", "MODE", "SECONDS", "RESOLUTION", "CREATED", "PROMPT")
PROMPT_SHOWN = 40
"""Characters of the prompt a list shows."""


def table(found: list[Status]) -> list[str]:
    """A header and a line per task, in aligned columns."""
    rows = [COLUMNS, *(_row(status) for status in found)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def _row(status: Status) -> tuple[str, ...]:
    prompt = " ".join((status.prompt or "").split())
    if len(prompt) > PROMPT_SHOWN:
        prompt = prompt[: PROMPT_SHOWN - 1] + "…"
    created = (
        datetime.fromtimestamp(status.created_at).strftime("%Y-%m-%d %H:%M")
        if status.created_at is not None
        else "-"
    )
    return (
        status.task_id,
        status.state.value,
        status.model or "-",
        status.mode or "-",
        str(status.duration) if status.duration is not None else "-",
        status.resolution or "-",
        created,
        prompt or "-",
    )
