"""``conch generate``: one video from a first (and last) frame, on a server or in-process.

Local image files are sent inline as data URLs. While the video is made a progress bar
runs on stderr; the path of the video is printed on stdout, alone. The task id is shown
(and, for a server, kept in the journal) as soon as the task is accepted, so an interrupted
run can be finished with ``conch tasks download ID`` instead of paying for a second task.
"""

from __future__ import annotations

import shlex
import signal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from conch.cli.profiles import ServiceChoice, service_options
from conch.cli.video_options import output_option, timeout_option
from conch.client import Client, Status, Video, WaitTimeout
from conch.client.download import default_output
from conch.client.journal import Entry, Journal
from conch.client.request import DEFAULT_MODEL, build_request
from conch.domain.errors import ConchError

if TYPE_CHECKING:
    from conch.runner.inprocess import LocalClient


class Watch:
    """Progress bars on stderr: the task while it is made, then its download."""

    def __init__(self) -> None:
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.making: TaskID | None = None
        self.fetching: TaskID | None = None

    def __enter__(self) -> Watch:
        self.bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.bars.stop()

    def status(self, status: Status) -> None:
        """Show a task's state (and its progress, when the service tells it)."""
        description = f"{status.state} ({status.provider_status})"
        if self.making is None:
            self.making = self.bars.add_task(description, total=None)
        if status.progress is not None:
            self.bars.update(self.making, total=1.0, completed=status.progress)
        if status.state.is_terminal:
            self.bars.update(self.making, total=1.0, completed=1.0)
        self.bars.update(self.making, description=description)

    def download(self, done: int, total: int | None) -> None:
        """Show a download's bytes."""
        if self.fetching is None:
            self.fetching = self.bars.add_task("downloading", total=total)
        self.bars.update(self.fetching, completed=done, total=total)


def run_to_video(
    service: ServiceChoice,
    client: Client | LocalClient,
    task_id: str,
    output: Path | None,
    timeout: float,
) -> Video:
    """Wait for ``task_id`` with progress bars and download its video; the CLI's errors."""
    try:
        with Watch() as watch:
            return client.resume(
                task_id,
                output,
                timeout=timeout,
                on_status=watch.status,
                on_progress=watch.download,
            )
    except WaitTimeout as error:
        raise click.ClickException(f"{error}\n{resume_hint(service, task_id, output)}") from error
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping already: a second one is moot
        click.echo(f"\nstopped. {resume_hint(service, task_id, output)}", err=True)
        raise SystemExit(130) from None
    except ConchError as error:
        raise click.ClickException(str(error)) from error


def resume_hint(service: ServiceChoice, task_id: str, output: Path | None) -> str:
    """How to finish ``task_id`` later, from any folder, without submitting it again."""
    out = shlex.quote(str(video_path(task_id, output)))
    return f"finish it with: conch tasks download {task_id} -o {out}{service.flags()}"


def video_path(task_id: str, output: Path | None) -> Path:
    """Where the video of ``task_id`` goes, as an absolute path."""
    return (output if output is not None else default_output(task_id)).resolve()


@click.command()
@click.option("--first-frame", help="The first frame: a local JPEG, PNG or WebP file, or a URL.")
@click.option("--last-frame", help="The last frame (first+last-frame video).")
@click.option("--prompt", default="", help="What happens; camera moves in [...], e.g. [Push in].")
@click.option("--model", default=DEFAULT_MODEL, show_default=True)
@click.option("--duration", type=int, help="Seconds (the model's default: 6).")
@click.option("--resolution", help="512P, 720P, 768P or 1080P (the model's default).")
@click.option(
    "--prompt-optimizer/--no-prompt-optimizer",
    default=True,
    help="Let the service rewrite the prompt.",
)
@click.option("--watermark", is_flag=True, help="Add the visible AIGC watermark.")
@output_option
@timeout_option
@service_options(in_process="the video is made in this process, on --data-dir")
def generate(
    first_frame: str | None,
    last_frame: str | None,
    prompt: str,
    model: str,
    duration: int | None,
    resolution: str | None,
    prompt_optimizer: bool,
    watermark: bool,
    output: Path | None,
    timeout: float,
    service: ServiceChoice,
) -> None:
    """Make a video and print where it went."""
    try:
        request = build_request(
            model=model,
            prompt=prompt,
            first_frame=first_frame,
            last_frame=last_frame,
            duration=duration,
            resolution=resolution,
            prompt_optimizer=prompt_optimizer,
            watermark=watermark,
        )
    except ConchError as error:
        raise click.UsageError(error.message()) from error
    with service.open() as client:
        try:
            task_id = client.submit(request)
        except ConchError as error:
            raise click.ClickException(str(error)) from error
        _announce(service, task_id, output)
        video = run_to_video(service, client, task_id, output, timeout)
    click.echo(str(video.path))


def _announce(service: ServiceChoice, task_id: str, output: Path | None) -> None:
    # The id first, whatever happens next: it is what saves paying for the task twice.
    click.echo(f"task {task_id} accepted ({service.label})", err=True)
    if service.in_process:
        return  # in-process tasks are kept in the data dir
    journal = Journal.default()
    try:
        # Kept before waiting: a run killed now can still be finished, not paid for twice.
        journal.record(Entry(task_id, service.label, str(video_path(task_id, output))))
    except OSError as error:
        click.echo(
            f"warning: task {task_id} was not recorded in {journal.path} ({error}); keep its "
            "id to finish it with conch tasks download",
            err=True,
        )
