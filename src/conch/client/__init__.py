"""The conch SDK: submit, poll and download videos from conch or any of the providers it
imitates (MiniMax, QuickRouter, Modelverse, Chanjing), avoiding the traps public clients
fall into (``api-notes.md`` §5): every answer's error code is checked, whatever its HTTP
status; a submit is never retried, and one whose answer was lost says the task may exist;
a task can be resumed from its id; videos stream to disk and resume after a cut; expired
links are replaced; the processes of one machine share a Chanjing app's one live token.

::

    import conch

    with conch.Client("http://127.0.0.1:8000", "sk-conch-...") as client:
        video = client.generate(first_frame="a.jpg", last_frame="b.png",
                                prompt="[Push in] a harbour", output="out.mp4")
"""

from conch.client.aio import AsyncClient
from conch.client.backoff import Backoff, Retry
from conch.client.errors import (
    DownloadFailed,
    ProviderError,
    ServiceUnreachable,
    SubmitUnconfirmed,
    TaskFailed,
    Unsupported,
    WaitTimeout,
)
from conch.client.presets import PRESETS, Dialect, Preset
from conch.client.request import build_request
from conch.client.status import Failure, Page, State, Status, Video
from conch.client.sync import Client

__all__ = [
    "PRESETS",
    "AsyncClient",
    "Backoff",
    "Client",
    "Dialect",
    "DownloadFailed",
    "Failure",
    "Page",
    "Preset",
    "ProviderError",
    "Retry",
    "ServiceUnreachable",
    "State",
    "Status",
    "SubmitUnconfirmed",
    "TaskFailed",
    "Unsupported",
    "Video",
    "WaitTimeout",
    "build_request",
]
