"""Callbacks: the handshake at submit, then a push on every status change.

- :mod:`~conch.delivery.handshake`: a submit with ``callback_url`` (Chanjing: ``callback``)
  is accepted only when the URL echoes a fresh challenge within 3 s.
- :mod:`~conch.domain.events`: which status changes push (``processing`` once, then
  ``success`` or ``failed``).
- :mod:`conch.store.outbox`: each push is written in the transaction that changed the
  status, so a restart loses none; deliverers claim them under a lease.
- :mod:`~conch.delivery.deliverer` and :mod:`~conch.delivery.push`: a thread of
  ``conch serve`` sends them through the outbound guard, in order per task, at least once,
  retrying with backoff (:mod:`~conch.delivery.retry`); a 410 stops a URL.
- :mod:`~conch.delivery.bodies`: each dialect's push body; :mod:`~conch.delivery.signing`:
  Standard Webhooks signatures for keys with a ``whsec_`` secret.
- ``GET /v1/tasks/{task_id}/deliveries`` (:mod:`conch.api.deliveries`) shows them to the owner.

``docs/callbacks.md`` is the user's guide.
"""
