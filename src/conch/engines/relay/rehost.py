"""Re-hosting a finished upstream video: downloaded to local disk, then its header checked.

The download is the SDK's (:func:`conch.client.download.download`): streamed to a part
file, resumed with HTTP Range after a cut, and fetched from a fresh link when the one in
hand has expired or is refused; the relay's session caps its bytes. The header is then read
(:func:`conch.media.video.read_header`): codec, size, frame count, every packet present.
A failure here is conch's to retry: the call stays accepted, so the next attempt polls the
same upstream task and downloads again.
"""

from __future__ import annotations

from pathlib import Path

from conch.client.backoff import Backoff, Retry
from conch.client.download import download, part_path
from conch.client.errors import DownloadFailed, ServiceUnreachable
from conch.client.status import Status
from conch.domain.errors import Internal
from conch.engines.relay.context import Upstream
from conch.engines.relay.transport import Pause
from conch.media.video import UnreadableVideo, VideoHeader, read_header

RETRY = Retry(attempts=5, backoff=Backoff(first=0.5, factor=2.0, ceiling=8.0))


def rehost(upstream: Upstream, status: Status, output: Path, pause: Pause) -> VideoHeader:
    """Download the video of the succeeded upstream task ``status`` to ``output``, checked."""
    flow = download(upstream.adapter, status, output, retry=RETRY)
    try:
        upstream.session.run(flow, pause=pause)
    except (DownloadFailed, ServiceUnreachable) as failed:
        part_path(output, status.task_id).unlink(missing_ok=True)
        raise Internal(f"the upstream's video could not be downloaded: {failed}") from None
    try:
        return read_header(output)
    except UnreadableVideo as unreadable:
        output.unlink(missing_ok=True)
        raise Internal(f"the upstream's video was refused: {unreadable}") from None
