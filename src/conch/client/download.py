"""Downloading a video: streamed to disk, resumed with HTTP Range after a cut, and fetched
from a fresh link when the one in hand has expired or is refused.

Bytes go to ``<output>.<task_id>.part`` next to the output and the part becomes the output
only once whole, so a download stopped at any point (even by a killed process) resumes
from where it stopped the next time, and a part is never mistaken for another task's.
The part is locked while bytes are written to it: a second download to the same output
stops with DownloadFailed instead of writing over the first one's bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from conch.client import flows
from conch.client.adapters import Adapter, Link
from conch.client.backoff import Retry
from conch.client.effects import ByteProgress, Fetch, Fetched, Flow, Sleep
from conch.client.errors import DownloadFailed, ServiceUnreachable, TaskFailed
from conch.client.status import State, Status, Video
from conch.domain.errors import InvalidParams

REFUSED = frozenset({401, 403, 404, 410})
"""Statuses with which a link is refused (expired, altered, gone): ask for a fresh one."""

TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})

FRESH_LINKS = 3
"""Fresh links asked for before the download is given up."""

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


def downloadable(status: Status) -> Status:
    """``status`` when it has a video; TaskFailed, or InvalidParams while it runs."""
    if status.state is State.FAILED:
        raise TaskFailed(status)
    if status.state is not State.SUCCEEDED:
        raise InvalidParams(
            f"task {status.task_id} is {status.state}: it has no video yet; wait for it first",
            field="task_id",
        )
    return status


def default_output(task_id: str) -> Path:
    """Where a video goes when the caller does not say: ``<task_id>.mp4`` here."""
    return Path(f"{task_id}.mp4")


def fetch_headers(offset: int) -> dict[str, str]:
    """Headers of a request for the bytes from ``offset`` on, exactly as stored (a
    compressed answer would count its bytes differently from the file's)."""
    headers = {"Accept-Encoding": "identity"}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
    return headers


def part_path(output: Path, task_id: str) -> Path:
    """Where the bytes of ``task_id`` collect until the download is whole."""
    return output.with_name(f"{output.name}.{task_id}.part")


@dataclass(frozen=True)
class WritePlan:
    """Where an answer's body goes in the part file: from byte ``start`` (None: nowhere)."""

    start: int | None
    total: int | None


def write_plan(http_status: int, headers: Mapping[str, str], offset: int) -> WritePlan:
    """What to do with an answer to a request for the bytes from ``offset`` on."""
    if http_status == 206:
        found = _CONTENT_RANGE.fullmatch(headers.get("content-range", "").strip())
        if found is None or int(found[1]) > offset:
            return WritePlan(None, None)  # not the bytes asked for: ask again from scratch
        total = None if found[2] == "*" else int(found[2])
        return WritePlan(int(found[1]), total)
    if http_status == 200:  # the whole file (the server ignored the Range)
        length = headers.get("content-length")
        return WritePlan(0, int(length) if length and length.isdigit() else None)
    if http_status == 416:
        found = _UNSATISFIED_RANGE.fullmatch(headers.get("content-range", "").strip())
        return WritePlan(None, int(found[1]) if found else None)
    return WritePlan(None, None)


@contextlib.contextmanager
def open_part(part: Path, start: int) -> Iterator[BinaryIO]:
    """The part file, locked, cut at ``start`` and positioned there for appending.

    DownloadFailed when another download to the same output holds it, or moved it on
    since its size was read (it holds fewer than ``start`` bytes, or is not there).
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(part, os.O_RDWR | os.O_CREAT, 0o644), "r+b") as out:
        _lock(out, part)
        if not _still_at(out, part) or os.fstat(out.fileno()).st_size < start:
            raise _busy(part)
        out.truncate(start)
        out.seek(start)
        yield out


def _publish(part: Path, output: Path) -> None:
    """The whole part becomes the output, under the part's lock."""
    try:
        held = part.open("rb")
    except FileNotFoundError:
        raise _busy(part) from None
    with held:
        _lock(held, part)
        part.replace(output)


def _discard(part: Path) -> None:
    """Delete the part, under its lock, to start over."""
    try:
        held = part.open("rb")
    except FileNotFoundError:
        return
    with held:
        _lock(held, part)
        part.unlink(missing_ok=True)


def _lock(held: BinaryIO, part: Path) -> None:
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(part) from None


def _still_at(held: BinaryIO, part: Path) -> bool:
    """Whether ``part`` still names the file held (another download may have moved it)."""
    try:
        return os.stat(part).st_ino == os.fstat(held.fileno()).st_ino
    except FileNotFoundError:
        return False


def _busy(part: Path) -> DownloadFailed:
    return DownloadFailed(
        f"another download is writing {part} (the same task to the same output); wait for "
        "it to end, or download elsewhere"
    )


def download(
    adapter: Adapter,
    of: Status,
    output: Path,
    *,
    retry: Retry,
    on_progress: ByteProgress | None = None,
) -> Flow[Video]:
    """Download the video of the succeeded task ``of`` to ``output``."""
    part = part_path(output, of.task_id)
    current = yield from _first_link(adapter, of, retry)
    tries = _Tries(retry)
    while True:
        offset = _size(part)
        try:
            fetched: Fetched = yield Fetch(current.url, part, offset, on_progress, current.headers)
        except Exception as error:
            if not flows.is_transient(error):
                raise
            tries.failed(part, offset, error)
            yield Sleep(tries.delay())
            continue
        if fetched.written and fetched.size > offset:
            tries.fresh_links = 0  # a link that worked for a while may expire again: allow more
        if _whole(fetched, current):
            _publish(part, output)
            return Video(of.task_id, output, fetched.size, of.width, of.height)
        step = _after_partial(fetched, current, part, offset, tries)
        if step is _Next.FRESH_LINK:
            current = yield from flows.retrying(lambda: flows.link(adapter, of), retry)
        elif step is _Next.WAIT:
            yield Sleep(tries.delay())


class _Next(Enum):
    """What a download does after an answer that did not complete the file."""

    FRESH_LINK = "fresh link"
    WAIT = "wait"
    AGAIN = "again"


@dataclass
class _Tries:
    """A download's counts of fresh links and of failures in a row, and its backoff."""

    retry: Retry
    fresh_links: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        self._delays = self.retry.backoff.delays()

    def delay(self) -> float:
        return next(self._delays)

    def failed(self, part: Path, offset: int, error: Exception | None) -> None:
        """Count an attempt that failed; raise once too many made no progress."""
        if _size(part) > offset:
            self.fresh_links = 0
        self.failures = _count_failure(part, offset, self.failures, self.retry, error)


def _after_partial(
    fetched: Fetched, current: Link, part: Path, offset: int, tries: _Tries
) -> _Next:
    """The next step after an answer that left the file incomplete; raise to give up."""
    answered = fetched.http_status
    if answered in REFUSED:
        tries.fresh_links += 1
        if tries.fresh_links > FRESH_LINKS:
            raise DownloadFailed(_refused(fetched, tries.fresh_links))
        return _Next.FRESH_LINK
    if answered in TRANSIENT:
        tries.failed(part, offset, None)
        return _Next.WAIT
    if answered not in (200, 206, 416):
        raise DownloadFailed(f"the download link answered HTTP {answered}")
    if answered == 416 or not fetched.written or _too_long(fetched, current):
        _discard(part)  # not the file the part began: start over
    tries.failed(part, offset, None)
    return _Next.AGAIN


def _first_link(adapter: Adapter, of: Status, retry: Retry) -> Flow[Link]:
    if of.video_urls:
        return Link(of.video_urls[0])
    return (yield from flows.retrying(lambda: flows.link(adapter, of), retry))


def _whole(fetched: Fetched, link: Link) -> bool:
    if fetched.http_status == 416:  # nothing left to send: whole if the sizes agree
        return fetched.total is not None and fetched.size == fetched.total
    if not fetched.written:
        return False
    expected = fetched.total if fetched.total is not None else link.size
    return expected is None or fetched.size == expected


def _too_long(fetched: Fetched, link: Link) -> bool:
    expected = fetched.total if fetched.total is not None else link.size
    return expected is not None and fetched.size > expected


def _count_failure(
    part: Path, offset: int, failures: int, retry: Retry, error: Exception | None
) -> int:
    """Failures in a row without progress; raise once there are too many."""
    failures = 0 if _size(part) > offset else failures + 1
    if failures >= retry.attempts:
        if error is not None and not isinstance(error, DownloadFailed):
            raise ServiceUnreachable(f"the download kept failing: {error}") from error
        raise DownloadFailed(f"the download made no progress in {failures} attempts")
    return failures


def _size(part: Path) -> int:
    return part.stat().st_size if part.exists() else 0


def _refused(fetched: Fetched, links: int) -> str:
    return (
        f"the download link was refused (HTTP {fetched.http_status}) even after "
        f"{links - 1} fresh links"
    )
