"""``conch worker``: run tasks announced on the broker, on this machine.

It takes the same settings as ``conch serve`` (``CONCH_DATABASE_URL``,
``CONCH_STORAGE_URL``, ``conch.toml``'s model routes) and ``CONCH_BROKER_URL``, and runs
Celery's worker in this process: a pool of runner processes, each claiming the tasks it is
told about and running them as the embedded runners do (docs/deploy.md, "A fleet"). With
``--metrics-port`` it also serves the render and relay seconds of its pool's tasks on
``/metrics``, behind ``CONCH_METRICS_TOKEN``.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from celery.exceptions import CPendingDeprecationWarning

from conch import logs
from conch.cli.options import data_dir_option, settings_from
from conch.config import Settings
from conch.engines.registry import check_routes
from conch.metrics_share import share_with_runners, shared_folder
from conch.runner.fleet import (
    all_queues,
    broker_display,
    celery_app,
    queues_for_engine,
    queues_for_models,
)

if TYPE_CHECKING:
    from conch.runner.metrics_endpoint import MetricsEndpoint

POOLS = ("prefork", "solo")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def choose_queues(
    settings: Settings, models: str | None, engine: str | None, queues: str | None
) -> list[str]:
    """The queues a worker consumes: those of ``models``, of ``engine``, the ``queues``
    named, or (none of them given) every queue of this installation."""
    given = [option for option in (models, engine, queues) if option]
    if len(given) > 1:
        raise click.UsageError("give one of --models, --engine and --queues")
    try:
        if models:
            return queues_for_models(settings, _split(models))
        if engine:
            return queues_for_engine(settings, engine.strip())
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    if queues:
        return _split(queues)
    return all_queues(settings)


@click.command()
@click.option("--models", help="Run only these models' tasks (comma-separated names).")
@click.option("--engine", help="Run only the tasks of models this engine serves (motion, ...).")
@click.option("--queues", help="Consume exactly these queues (comma-separated).")
@click.option(
    "--concurrency", type=int, default=1, show_default=True, help="Tasks run at once (processes)."
)
@click.option("--name", help="This worker's name in logs and the task table [host name].")
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="prefork",
    show_default=True,
    help="prefork: tasks run in child processes; solo: in this process, one at a time.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve this worker's render and relay seconds on /metrics at this port "
    "(CONCH_METRICS_TOKEN required; 0: any free port).",
)
@click.option(
    "--metrics-host", default="0.0.0.0", show_default=True, help="Address /metrics listens on."
)
@data_dir_option
def worker(
    models: str | None,
    engine: str | None,
    queues: str | None,
    concurrency: int,
    name: str | None,
    pool: str,
    metrics_port: int | None,
    metrics_host: str,
    data_dir: Path | None,
) -> None:
    """Run tasks that a `conch serve` announces on the broker (CONCH_BROKER_URL)."""
    settings = settings_from(data_dir=data_dir)
    if settings.broker_url is None:
        raise click.ClickException(
            "conch worker takes its tasks from a broker, and none is set: set CONCH_BROKER_URL "
            "(redis://host:6379/0 or amqp://user:password@host:5672//) to the broker the "
            "server announces on"
        )
    if concurrency < 1:
        raise click.UsageError("--concurrency must be at least 1")
    try:
        check_routes(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    chosen = choose_queues(settings, models, engine, queues)
    node = name or socket.gethostname()
    with contextlib.ExitStack() as cleanup:
        if metrics_port is not None:
            cleanup.callback(_share_metrics(settings))
        # Imported only now: it imports prometheus-client, which must find the metrics folder.
        from conch.runner.celery_worker import close_runners, register

        logs.configure(f"worker {node}", settings.log_format)
        # Celery warns, on every lost broker connection, that it may one day cancel running
        # tasks then; conch keeps them running (fleet.py), so the warning says nothing here.
        warnings.filterwarnings("ignore", category=CPendingDeprecationWarning)
        app = celery_app(settings)
        register(app, settings, node, exit_when_stuck=pool == "prefork")
        click.echo(
            f"conch worker {node}: {concurrency} x {pool} on {broker_display(settings)}, "
            f"queues {', '.join(chosen)}",
            err=True,
        )
        if metrics_port is not None:
            cleanup.callback(_serve_metrics(settings, metrics_host, metrics_port).stop)
        celery = app.Worker(
            hostname=node if "@" in node else f"conch@{node}",
            queues=chosen,
            concurrency=concurrency,
            pool=pool,
            loglevel="INFO",
            without_mingle=True,
            without_gossip=True,
            optimization="fair",
        )
        cleanup.callback(close_runners)
        celery.start()
    raise SystemExit(celery.exitcode or 0)


def _share_metrics(settings: Settings) -> Callable[[], None]:
    """The folder the pool writes its histograms to, set before prometheus-client loads
    (it picks its multiprocess mode once, on import, and the pool is forked from here)."""
    if settings.metrics_token is None:
        raise click.ClickException(
            "--metrics-port serves /metrics to whoever sends CONCH_METRICS_TOKEN, and none is "
            "set: set it to the token Prometheus sends (the server's /metrics asks the same)"
        )
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the metrics folder was set")
    return share_with_runners()


def _serve_metrics(settings: Settings, host: str, port: int) -> MetricsEndpoint:
    from conch.runner.metrics_endpoint import MetricsEndpoint

    folder, token = shared_folder(), settings.metrics_token
    if folder is None or token is None:
        raise RuntimeError("the metrics folder and token are checked before the pool starts")
    try:
        endpoint = MetricsEndpoint(host, port, token, folder)
    except OSError as error:
        raise click.ClickException(f"cannot serve /metrics on {host}:{port}: {error}") from error
    click.echo(f"metrics: http://{host}:{endpoint.port}/metrics", err=True)
    return endpoint
