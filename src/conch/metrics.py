"""Prometheus metrics, through prometheus-client.

Where each figure comes from, and why:

- Tasks (submitted, and ended by status, per model, dialect and engine), the queue's depth
  and the age of its oldest ready task, and callback deliveries by outcome are read from
  the database when Prometheus scrapes (:class:`StoreCollector`). The task table is the
  single source of truth and every process writes it, API servers, embedded runners and
  workers on other machines alike, so a count taken there adds up across all of them, and
  two servers scraped side by side report the same totals.
- Render and relay seconds are measured where a task runs, in runner processes, through
  prometheus-client's multiprocess mode: ``conch serve`` gives its embedded runners a
  folder (:mod:`conch.metrics_share`) where each writes its histograms, and the server's
  ``/metrics`` merges the folder's files (a runner that died still counts). A ``conch
  worker`` on another machine does the same for its pool and serves them on its own
  ``/metrics`` (``--metrics-port``, :mod:`conch.runner.metrics_endpoint`).
- HTTP requests (by route, method and status) and their latency are the serving process's
  own (conch.api.observability): each server is its own scrape target.
"""

from __future__ import annotations

import hmac
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pydantic import SecretStr
from sqlalchemy import Engine, Row, func, select

from conch.config import Settings
from conch.domain.task import TaskStatus
from conch.metrics_share import shared_folder
from conch.store.db import reader
from conch.store.pushes import DeliveryState
from conch.store.tables import deliveries, tasks
from conch.wire.authorization import key_from_header

METRICS_PATH = "/metrics"
"""Where a server, and a worker asked to, serve their figures."""
TOKEN_WANTED = "send the metrics token as a Bearer token"
"""The refusal of a scrape without the metrics token (``CONCH_METRICS_TOKEN``)."""
RELAY = "relay"
"""The engine whose runs are relay seconds (an upstream provider's), not render seconds."""
SECONDS_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf"))

RENDER_SECONDS = Histogram(
    "conch_render_seconds",
    "Seconds a runner spent making one task's video (engine and encoder), per attempt",
    ["engine", "model", "outcome"],
    buckets=SECONDS_BUCKETS,
    registry=None,
)
RELAY_SECONDS = Histogram(
    "conch_relay_seconds",
    "Seconds an upstream provider took for one relayed task, per attempt",
    ["model", "outcome"],
    buckets=SECONDS_BUCKETS,
    registry=None,
)


def observe_run(engine: str, model: str, outcome: str, seconds: float) -> None:
    """Record one attempt at a task: render seconds, or relay seconds for the relay."""
    if engine == RELAY:
        RELAY_SECONDS.labels(model=model, outcome=outcome).observe(seconds)
    else:
        RENDER_SECONDS.labels(engine=engine, model=model, outcome=outcome).observe(seconds)


def scrape_allowed(token: SecretStr, authorization: str | None) -> bool:
    """True if an ``Authorization`` header carries the metrics token."""
    given = key_from_header(authorization) or ""
    return hmac.compare_digest(given.encode(), token.get_secret_value().encode())


def registry_for(engine: Engine, settings: Settings) -> CollectorRegistry:
    """A registry with the database's figures and this server's runners' histograms."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine, settings))
    folder = shared_folder()
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return registry


_TERMINAL = [status.value for status in TaskStatus if status.is_terminal]


class StoreCollector(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], float] = time.time):
        self.reads = reader(engine)
        self.settings = settings
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        with self.reads.begin() as conn:
            by_status = conn.execute(
                select(tasks.c.status, tasks.c.model, tasks.c.dialect, func.count()).group_by(
                    tasks.c.status, tasks.c.model, tasks.c.dialect
                )
            ).all()
            queued = tasks.c.status == TaskStatus.QUEUED.value
            depth = conn.execute(select(func.count()).where(queued)).scalar_one()
            ready = conn.execute(
                select(func.min(tasks.c.available_at)).where(queued, tasks.c.available_at <= now)
            ).scalar()
            pushes = conn.execute(
                select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
            ).all()
        yield from self._tasks(by_status)
        yield GaugeMetricFamily("conch_queue_depth", "Tasks queued, ready or backing off", depth)
        yield GaugeMetricFamily(
            "conch_queue_oldest_ready_seconds",
            "Seconds the oldest ready task has waited for a runner (0: none waits)",
            0.0 if ready is None else max(0.0, now - ready),
        )
        yield from _pushes(dict(pushes))

    def _tasks(self, rows: Sequence[Row[Any]]) -> Iterator[Metric]:
        submitted: Counter[tuple[str, str, str]] = Counter()
        ended: Counter[tuple[str, str, str, str]] = Counter()
        for status, model, dialect, count in (tuple(row) for row in rows):
            where = (model, dialect, self.settings.route(model).engine)
            submitted[where] += count
            if status in _TERMINAL:
                ended[(status, *where)] += count
        labels = ["model", "dialect", "engine"]
        made = CounterMetricFamily("conch_tasks_submitted", "Tasks accepted", labels=labels)
        for where, count in sorted(submitted.items()):
            made.add_metric(list(where), count)
        done = CounterMetricFamily(
            "conch_tasks_ended",
            "Tasks ended, by status (success, fail, ...)",
            labels=["status", *labels],
        )
        for key, count in sorted(ended.items()):
            done.add_metric(list(key), count)
        yield made
        yield done


def _pushes(by_state: dict[str, int]) -> Iterator[Metric]:
    pending = by_state.pop(DeliveryState.PENDING.value, 0)
    outcomes = CounterMetricFamily(
        "conch_callback_deliveries",
        "Callback pushes that reached an outcome (delivered, gone, stopped, expired)",
        labels=["outcome"],
    )
    for state in DeliveryState:
        if state is not DeliveryState.PENDING:
            outcomes.add_metric([state.value], by_state.get(state.value, 0))
    yield outcomes
    yield GaugeMetricFamily(
        "conch_callback_deliveries_pending", "Callback pushes not delivered yet", pending
    )
