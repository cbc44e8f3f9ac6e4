"""The fleet's wire: the Celery app that carries "task N is ready", and its names.

The broker (Redis or RabbitMQ, ``CONCH_BROKER_URL``) carries one kind of message: the
task :data:`READY_TASK` with a single argument, the task's id. Everything else about the
task is in the database, which stays the single source of truth; a worker that receives
the message claims the task there (:mod:`conch.runner.celery_worker`).

The settings guard against the known traps of long tasks:

- acks late, and rejected when the worker is lost: a worker killed mid-render gives the
  message back instead of having acknowledged it on receipt;
- prefetch 1: a worker busy on a long render holds no other message another could run;
- a Redis visibility timeout above the longest render (``CONCH_BROKER_VISIBILITY_TIMEOUT``),
  or Redis hands a message still being worked on to a second worker;
- JSON only: a message is never unpickled.

A duplicate delivery is harmless either way: the claim refuses a task that is not queued.

Queues follow what a worker can run: every motion-engine model goes to one queue
(``<prefix>.motion``: any CPU worker renders them all), every other model to a queue of its
own (``<prefix>.model.<name>``), so a GPU worker takes only the models it has weights for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from conch.config import Settings
from conch.domain.catalog import CATALOG
from conch.engines.registry import ENGINES, MOTION

READY_TASK = "conch.ready"
"""The one task name on the wire; its one argument is the task's id."""


def queue_for(settings: Settings, model: str) -> str:
    """The queue a ready ``model`` task is announced on."""
    engine = settings.route(model).engine
    if engine == MOTION:
        return f"{settings.queue_prefix}.{MOTION}"
    return f"{settings.queue_prefix}.model.{model}"


def queues_for_models(settings: Settings, models: Iterable[str]) -> list[str]:
    """The queues that carry ``models``' tasks, each once, in the order first named."""
    unknown = [model for model in models if model not in CATALOG]
    if unknown:
        raise ValueError(f"unknown models {', '.join(unknown)}; known: {', '.join(CATALOG)}")
    return list(dict.fromkeys(queue_for(settings, model) for model in models))


def queues_for_engine(settings: Settings, engine: str) -> list[str]:
    """The queues of every model that ``engine`` serves here."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known engines: {', '.join(ENGINES)}")
    models = [model for model in CATALOG if settings.route(model).engine == engine]
    return queues_for_models(settings, models)


def all_queues(settings: Settings) -> list[str]:
    """Every queue a task of any model may be announced on, under these settings."""
    return queues_for_models(settings, CATALOG)


def celery_app(settings: Settings) -> Celery:
    """The Celery app of this installation, on ``CONCH_BROKER_URL``."""
    url = settings.broker_url
    if url is None:
        raise ValueError("no broker: set CONCH_BROKER_URL (redis://host:6379/0 or amqp://...)")
    transport: dict[str, object] = {"visibility_timeout": settings.broker_visibility_timeout}
    if urlsplit(url).scheme.startswith(("redis", "rediss")):
        transport["socket_connect_timeout"] = settings.broker_connect_timeout
    app = Celery("conch", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        broker_connection_timeout=settings.broker_connect_timeout,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,  # the task table holds every outcome
        task_default_queue=f"{settings.queue_prefix}.{MOTION}",
        task_create_missing_queues=True,
        worker_hijack_root_logger=False,  # conch's logging policy (scrubbed lines) stays
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        # A broker that blinks must not kill renders: their ack fails, the message comes
        # back, and the claim refuses the duplicate while the render goes on.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )
    return app


def announce(app: Celery, settings: Settings, task_id: int, model: str) -> None:
    """Publish "task ``task_id`` is ready" on its model's queue; raise when the broker does
    not take it (no retries here: the announcer owns backing off)."""
    queue = queue_for(settings, model)
    app.send_task(READY_TASK, args=[task_id], queue=queue, retry=False, ignore_result=True)


def broker_display(settings: Settings) -> str:
    """The broker's URL with its password masked, for logs and answers."""
    return maybe_sanitize_url(settings.broker_url or "") or ""


def broker_check(app: Celery, settings: Settings) -> Callable[[], str | None]:
    """A readiness check: None when the broker takes a connection within the timeout."""

    def check() -> str | None:
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=settings.broker_connect_timeout)
        except Exception as error:
            where = broker_display(settings)
            return f"the broker at {where} is unreachable: {type(error).__name__}"
        return None

    return check
