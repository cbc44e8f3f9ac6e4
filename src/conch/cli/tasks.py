"""``conch tasks list | show ID | download ID``: tasks on a server, or in the local data dir.

Against a server whose dialect cannot list tasks (MiniMax, QuickRouter, Modelverse),
``list`` shows the tasks this machine submitted to it (the journal kept by ``conch
generate``), each with its status now.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from conch.cli.generate import run_to_video
from conch.cli.options import output_option, timeout_option
from conch.cli.profiles import ServiceChoice, service_options
from conch.client import Client, Status, Unsupported
from conch.client.journal import Journal
from conch.client.local import LocalClient
from conch.domain.errors import ConchError


@click.group()
def tasks() -> None:
    """List, show and download tasks (on a server, or in the local data dir)."""


@tasks.command("list")
@click.option("--limit", type=int, default=20, show_default=True, help="Tasks to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead.")
@service_options
def list_tasks(limit: int, as_json: bool, service: ServiceChoice) -> None:
    """The latest tasks, newest first."""
    with service.open() as client:
        try:
            found = _latest(client, service, limit)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
    for status in found:
        click.echo(json.dumps(_summary(status)) if as_json else _line(status))


@tasks.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="The provider's whole answer, as JSON.")
@service_options
def show(task_id: str, as_json: bool, service: ServiceChoice) -> None:
    """A task's status."""
    with service.open() as client:
        try:
            status = client.status(task_id)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(status.raw, indent=2, ensure_ascii=False, default=str))
        return
    for name, value in _summary(status).items():
        if value not in (None, "", []):
            click.echo(f"{name + ':':<17}{value}")


@tasks.command("download")
@click.argument("task_id")
@output_option
@timeout_option
@service_options
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


def _latest(client: Client | LocalClient, service: ServiceChoice, limit: int) -> list[Status]:
    try:
        return client.tasks(limit)
    except Unsupported:
        pass
    journal = Journal.default()
    try:
        entries = journal.entries(service.label)[:limit]
    except OSError as error:
        raise click.ClickException(f"cannot read {journal.path}: {error}") from error
    if not entries:
        click.echo(
            f"no tasks submitted from this machine to {service.label} (its dialect has no "
            "call that lists tasks)",
            err=True,
        )
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
    }


def _line(status: Status) -> str:
    detail = status.failure.message if status.failure else ""
    if status.width and status.height:
        detail = f"{status.width}x{status.height}"
    return f"{status.task_id}\t{status.state.value:<9}\t{status.provider_status}\t{detail}"
