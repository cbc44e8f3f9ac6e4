"""The relay engine: conch as a gateway to MiniMax, its resellers, /v1/videos servers and
other conches (docs/relay.md).

    upstreams.py  the configured upstreams: kinds, dialects, credentials, start-up checks
    calls.py      the record of each create (intent, upstream id, outcome) and its states
    transport.py  the SDK's flows performed through the outbound guard, with byte caps
    create.py     create exactly once (the request: media/resend.py); fail over only when
                  a create surely did not happen
    resolve.py    find an unconfirmed create in the upstream's task list
    follow.py     poll with backoff and jitter, to a deadline
    rehost.py     download the video (streamed, capped, resumed) and check its header
    outcomes.py   upstream failures as the caller's errors and the operator's reasons
    cancel.py     a task cancelled here cancelled upstream, where the upstream has the call
    reconcile.py  the sweep that collects what upstream tasks did after conch ended them
    engine.py     RelayEngine: the steps in order
"""

from conch.engines.relay.calls import CallLog, CallState, RelayCall
from conch.engines.relay.context import ClaimGone, Hooks
from conch.engines.relay.engine import Relayed, RelayEngine
from conch.engines.relay.upstreams import RELAY, check_upstreams

__all__ = [
    "RELAY",
    "CallLog",
    "CallState",
    "ClaimGone",
    "Hooks",
    "RelayCall",
    "RelayEngine",
    "Relayed",
    "check_upstreams",
]
