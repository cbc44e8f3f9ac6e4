"""Signed download links for pushes, which are made outside any HTTP request: they start
where every link does (:func:`conch.media.links.link_base`)."""

from __future__ import annotations

from dataclasses import dataclass

from conch.config import Settings
from conch.domain.task import Task
from conch.media.links import LinkSigner, link_base
from conch.store.tasks import TaskStore


@dataclass(frozen=True)
class VideoLinks:
    """Makes fresh signed links to tasks' videos."""

    settings: Settings
    signer: LinkSigner
    tasks: TaskStore

    def video_urls(self, task: Task) -> list[str]:
        """Links to ``task``'s video (none until it has one), valid for the download TTL."""
        if task.output is None:
            return []
        record = self.tasks.file_by_id(task.output.file_id)
        if record is None:
            return []
        return [self.signer.url(link_base(self.settings), record.id, record.filename)]
