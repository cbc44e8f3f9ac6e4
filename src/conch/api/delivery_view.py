"""A callback push and its attempts, as ``GET /v1/tasks/{id}/deliveries`` and
``conch deliveries --json`` show them. Apart from the route so the command need not load
the web app."""

from __future__ import annotations

from dataclasses import asdict

from conch.store.outbox import DeliveryHistory
from conch.wire.native import AttemptView, DeliveryView


def delivery_view(history: DeliveryHistory) -> DeliveryView:
    """A push and its attempts as this route (and ``conch deliveries --json``) show them."""
    delivery = history.delivery
    pending = delivery.finished_at is None
    return DeliveryView(
        webhook_id=delivery.webhook_id,
        event=delivery.event.value,
        url=delivery.url,
        state=delivery.state.value,
        outcome=delivery.outcome,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        finished_at=delivery.finished_at,
        attempts=[AttemptView(**asdict(attempt)) for attempt in history.attempts],
    )
