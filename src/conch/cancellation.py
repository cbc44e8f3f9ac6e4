"""Ending and removing an owner's work: cancel a task, delete a task, delete a file.

The task table decides (:meth:`conch.store.tasks.TaskStore.cancel` and ``delete``); this
module then removes what the task left in the media store: its input images, and the
staging file of a render it was taken from (the runner, finding its claim gone at its next
check, writes nothing more). Deleting a task or a file also removes the video, whose links
stop working at once: a signed link is served only while its file record exists.

Every dialect's cancel, delete and file-delete call comes through here.
"""

from __future__ import annotations

from conch.domain.task import Task
from conch.media.storage import MediaStore
from conch.services import Services
from conch.store.tasks import FileRecord


def cancel(services: Services, owner_id: int, reference: str) -> Task:
    """Cancel the owner's task (queued or running); InvalidParams when it has ended."""
    task = services.tasks.cancel(owner_id, reference)
    remove_leftovers(services.media, task)
    return task


def delete(services: Services, owner_id: int, reference: str) -> Task:
    """Delete the owner's task, cancelling it first if it has not ended, with its video; the
    task as it ended."""
    task, removed = services.tasks.delete(owner_id, reference)
    remove_leftovers(services.media, task)
    for record in removed:
        services.media.delete(record.storage_key)
    return task


def delete_file(services: Services, owner_id: int, file_id: int) -> FileRecord:
    """Delete the owner's file (a task's video); its record as it was."""
    record = services.tasks.delete_file(owner_id, file_id)
    services.media.delete(record.storage_key)
    return record


def remove_leftovers(media: MediaStore, task: Task) -> None:
    """Remove ``task``'s input images and any staging file of a render of it."""
    for image in task.inputs.values():
        media.delete(image.key)
    media.discard_staging(task.id)
