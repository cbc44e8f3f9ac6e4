"""``conch serve``: the API, the embedded runner pool and the callback deliverer in one
process tree."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import uvicorn

from conch.api.app import create_app
from conch.cli.options import data_dir_option, settings_from
from conch.client.local import LOCAL_OWNER
from conch.config import Settings
from conch.delivery.deliverer import Deliverer
from conch.engines.registry import check_routes, runner_count
from conch.runner.local import LocalPool
from conch.services import Services

log = logging.getLogger("conch")

# QuickRouter's first+last-frame example images (public; any https image works).
EXAMPLE_FIRST_FRAME = (
    "https://filecdn.minimax.chat/public/fe9d04da-f60e-444d-a2e0-18ae743add33.jpeg"
)
EXAMPLE_LAST_FRAME = "https://filecdn.minimax.chat/public/97b7cd08-764e-4b8b-a7bf-87a0bd898575.jpeg"


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        check_routes(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    services = Services.open(settings)
    _greet(settings, services)
    pool = LocalPool(settings)
    pool.start()
    deliverer = Deliverer(services)
    deliverer.start()
    try:
        server = uvicorn.Server(
            uvicorn.Config(create_app(services), host=settings.host, port=settings.port)
        )
        server.run()
    finally:
        deliverer.stop()
        pool.stop()
        services.close()


def _greet(settings: Settings, services: Services) -> None:
    """Tell a newcomer where to go next: a key, a curl line, the docs."""
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    key = "$CONCH_API_KEY"
    if not any(record.name != LOCAL_OWNER for record in services.keys.list()):
        _, key = services.keys.create("first key")
        click.echo("\nCreated your first API key (shown once; `conch keys create` makes more):")
        click.echo(f"\n  {key}\n")
    curl = (
        f"curl -s {base}/v1/video_generation -H 'Authorization: Bearer {key}' "
        '-H \'Content-Type: application/json\' -d \'{"model": "MiniMax-Hailuo-02", '
        f'"first_frame_image": "{EXAMPLE_FIRST_FRAME}", "last_frame_image": '
        f'"{EXAMPLE_LAST_FRAME}", "prompt": "A little girl grow up [推进]."}}\''
    )
    click.echo(f"conch is starting on {base} with data in {settings.data_dir.resolve()}")
    click.echo(f"  API docs:   {base}/docs")
    click.echo(f"  try it:     {curl}")
    routed = ", ".join(f"{model} -> {route.engine}" for model, route in settings.models.items())
    click.echo(f"  runners:    {runner_count(settings)} process(es)")
    click.echo(f"  engines:    {routed or 'every model on the motion engine'}\n")
