"""Signed download links for pushes, which are made outside any HTTP request.

An API answer builds its links from the request's own address; a push has no request, so
its links start at ``CONCH_PUBLIC_URL``, or else at the address conch listens on (an IPv6
one in brackets). Operators whose receivers reach conch by another name should set
``CONCH_PUBLIC_URL``; the deliverer warns at start-up when the fallback cannot work (conch
listening on every address, ``0.0.0.0`` or ``::``, which no receiver can call).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

from conch.config import Settings
from conch.domain.task import Task
from conch.media.links import LinkSigner
from conch.store.tasks import TaskStore


@dataclass(frozen=True)
class VideoLinks:
    """Makes fresh signed links to tasks' videos."""

    settings: Settings
    signer: LinkSigner
    tasks: TaskStore

    @property
    def base_url(self) -> str:
        return self.settings.public_url or _listening_url(self.settings)

    @staticmethod
    def base_url_problem(settings: Settings) -> str | None:
        """Why links would not reach conch (they would start at a wildcard), or None."""
        if settings.public_url:
            return None
        address = _address(settings.host)
        if address is not None and address.is_unspecified:
            return f"would start at {_listening_url(settings)}, which no receiver can call"
        return None

    def video_urls(self, task: Task) -> list[str]:
        """Links to ``task``'s video (none until it has one), valid for the download TTL."""
        if task.output is None:
            return []
        record = self.tasks.file_by_id(task.output.file_id)
        if record is None:
            return []
        return [self.signer.url(self.base_url, record.id, record.filename)]


def _listening_url(settings: Settings) -> str:
    host = settings.host
    address = _address(host)
    if address is not None and address.version == 6 and not host.startswith("["):
        host = f"[{host}]"  # unbracketed, its colons would read as a port
    return f"http://{host}:{settings.port}"


def _address(host: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None
