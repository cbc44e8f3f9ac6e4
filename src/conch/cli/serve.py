"""``conch serve``: the API, the embedded runner pool and the callback deliverer in one
process tree."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import click
import uvicorn

from conch import logs
from conch.api.app import create_app
from conch.api.server import server_config
from conch.cli.banner import greeting
from conch.cli.options import data_dir_option, settings_from
from conch.config import Settings
from conch.delivery.deliverer import Deliverer
from conch.engines.registry import check_routes, runner_count
from conch.media.links import link_base_problem
from conch.metrics_share import share_with_runners
from conch.runner.announcer import Announcer
from conch.runner.fleet import broker_check, broker_display, celery_app
from conch.runner.inprocess import LOCAL_OWNER
from conch.runner.local import LocalPool
from conch.services import Services

log = logging.getLogger("conch")


@click.command()
@click.option("--host", default=None, help="Address to listen on [env CONCH_HOST; 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env CONCH_PORT; 8000].")
@data_dir_option
@click.option(
    "--workers", type=int, default=None, help="Runner processes [env CONCH_WORKERS; one per core]."
)
def serve(host: str | None, port: int | None, data_dir: Path | None, workers: int | None) -> None:
    """Serve the API and run tasks with the embedded engines."""
    settings = settings_from(host=host, port=port, data_dir=data_dir, workers=workers)
    logs.configure(log_format=settings.log_format)
    try:
        check_routes(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    services = Services.open(settings)
    _greet(settings, services)
    problem = link_base_problem(settings)
    if problem:
        log.warning(problem)
    with contextlib.ExitStack() as running:  # what is started is stopped, in reverse
        running.callback(services.close)
        running.callback(share_with_runners())
        server = uvicorn.Server(server_config(create_app(services), settings))
        running.enter_context(_sigterm_stops(server))
        pool = LocalPool(settings)
        pool.start()
        running.callback(pool.stop)
        services.readiness.add("runners", pool.problem)
        deliverer = Deliverer(services)
        deliverer.start()
        running.callback(deliverer.stop)
        announcer = _announcer(services)
        if announcer is not None:
            running.callback(announcer.stop)
        settle_garbage_collector()
        server.run()


@contextlib.contextmanager
def _sigterm_stops(server: uvicorn.Server) -> Iterator[None]:
    """In the block, SIGTERM (a service manager's stop) stops ``server`` as Ctrl-C does; the
    process then shuts down and exits 0.

    uvicorn, once stopped by SIGTERM, raises the signal again to end the process: at once,
    which would skip conch's own shutdown (runners handing their tasks back, the deliverer,
    the announcer, the store). This handler is the one uvicorn puts back before it does.
    """

    def stop(_number: int, _frame: object) -> None:
        server.should_exit = True

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


GC_YOUNG_THRESHOLD = 5_000
"""Allocations between two young collections (CPython's default, 700, collects several
times a request)."""


def settle_garbage_collector() -> None:
    """Keep the garbage collector off what start-up built, before serving.

    Everything imported and built so far (modules, the app, its routes and models) lives as
    long as the process: collect it once, then freeze it, so that no later collection walks
    it again. A full collection took about 80 ms with it (172,000 objects) and under 1 ms
    without, a stall every request in flight waits for. The young generation is collected a
    little less often too: each request allocates a few hundred objects, nearly all freed by
    reference counting.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


def _announcer(services: Services) -> Announcer | None:
    """With a broker: the thread that announces ready tasks to the fleet, started, and the
    broker among the readiness checks."""
    settings = services.settings
    if settings.broker_url is None:
        return None
    app = celery_app(settings)
    announcer = Announcer(settings, services.tasks, services.media, app)
    services.readiness.add("broker", broker_check(app, settings))
    announcer.start()
    log.info("announcing ready tasks to the broker at %s", broker_display(settings))
    return announcer


def _greet(settings: Settings, services: Services) -> None:
    """Tell a newcomer where to go next: lines to try it (with a key on the first start)."""
    new_key = None
    if not any(record.name != LOCAL_OWNER for record in services.keys.list()):
        _, new_key = services.keys.create("first key")
    routed = ", ".join(f"{model} -> {route.engine}" for model, route in settings.models.items())
    engines = routed or "every model on the motion engine"
    click.echo(greeting(settings, new_key, runner_count(settings), engines))
