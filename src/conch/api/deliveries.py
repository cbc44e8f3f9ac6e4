"""``GET /v1/tasks/{task_id}/deliveries``: a task's callback pushes and how each went.

conch's own route (no provider has one), so it answers in conch's own JSON: real HTTP
statuses, and errors as ``{"error": {"code": <canonical code>, "message": ...}}``. The key
that submitted the task is the only one that sees it; the task is named by its id or its
uuid (Chanjing's ``unique_id``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from conch.api.auth import Installation, Owner
from conch.api.delivery_view import delivery_view
from conch.api.native import ERROR_RESPONSES, render_error
from conch.api.routing import TASK_REFERENCE, dialect_route
from conch.store.outbox import Outbox
from conch.wire.native import DeliveriesAnswer


def router() -> APIRouter:
    """The deliveries route."""
    routes = APIRouter(
        route_class=dialect_route(render_error), tags=["Callbacks"], responses=ERROR_RESPONSES
    )

    @routes.get("/v1/tasks/{task_id}/deliveries", response_model=DeliveriesAnswer)
    def task_deliveries(
        task_id: Annotated[
            str,
            Path(
                description="The task's id, or its uuid / unique_id",
                json_schema_extra=TASK_REFERENCE,
            ),
        ],
        owner: Owner,
        found: Installation,
    ) -> DeliveriesAnswer:
        """The task's callback pushes, in order, each with every attempt and its outcome."""
        task = found.tasks.find(owner.id, task_id)
        histories = Outbox(found.db).history(task.id)
        return DeliveriesAnswer(
            task_id=task.task_id,
            callback_url=task.spec.callback_url,
            deliveries=[delivery_view(history) for history in histories],
        )

    return routes
