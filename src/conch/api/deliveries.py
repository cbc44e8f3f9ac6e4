"""``GET /v1/tasks/{task_id}/deliveries``: a task's callback pushes and how each went.

conch's own route (no provider has one), so it answers in conch's own JSON: real HTTP
statuses, and errors as ``{"error": {"code": <canonical code>, "message": ...}}``. The key
that submitted the task is the only one that sees it; the task is named by its id or its
uuid (Chanjing's ``unique_id``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from conch.api.auth import Installation, Owner
from conch.api.native import render_error
from conch.api.routing import dialect_route
from conch.store.outbox import DeliveryHistory, Outbox


class AttemptView(BaseModel):
    number: int
    started_at: float = Field(description="Unix seconds")
    duration: float = Field(description="Seconds the attempt took")
    http_status: int | None = Field(description="The receiver's answer; null when there was none")
    error: str | None = Field(description="Why there was no answer")


class DeliveryView(BaseModel):
    webhook_id: str = Field(description="The push's id: its webhook-id header when signed")
    event: str = Field(description="processing | success | failed")
    url: str
    state: str = Field(description="pending | delivered | gone | stopped | expired")
    outcome: str | None = Field(description="The last attempt or decision, in words")
    created_at: float = Field(description="When the status changed (unix seconds)")
    next_attempt_at: float | None = Field(description="While pending: when it is tried next")
    finished_at: float | None
    attempts: list[AttemptView]


class DeliveriesAnswer(BaseModel):
    task_id: str
    callback_url: str | None
    deliveries: list[DeliveryView]


def delivery_view(history: DeliveryHistory) -> dict[str, Any]:
    """A push and its attempts as this route (and ``conch deliveries --json``) show them."""
    delivery = history.delivery
    pending = delivery.finished_at is None
    return {
        "webhook_id": delivery.webhook_id,
        "event": delivery.event.value,
        "url": delivery.url,
        "state": delivery.state.value,
        "outcome": delivery.outcome,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "finished_at": delivery.finished_at,
        "attempts": [asdict(attempt) for attempt in history.attempts],
    }


def router() -> APIRouter:
    """The deliveries route."""
    routes = APIRouter(route_class=dialect_route(render_error), tags=["Callbacks"])

    @routes.get("/v1/tasks/{task_id}/deliveries", response_model=DeliveriesAnswer)
    def task_deliveries(
        task_id: Annotated[str, Path(description="The task's id, or its uuid / unique_id")],
        owner: Owner,
        found: Installation,
    ) -> dict[str, Any]:
        """The task's callback pushes, in order, each with every attempt and its outcome."""
        task = found.tasks.find(owner.id, task_id)
        histories = Outbox(found.db).history(task.id)
        return {
            "task_id": task.task_id,
            "callback_url": task.spec.get("callback_url"),
            "deliveries": [delivery_view(history) for history in histories],
        }

    return routes
