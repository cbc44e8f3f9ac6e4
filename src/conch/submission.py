"""Accepting a generation request: every check, then the task, or an error and nothing.

Every dialect (and the in-process CLI) submits through :func:`submit`: the key's submit
rate counted, the request validated, the engine routing consulted, the prompt moderated,
the key's tasks in flight and balance looked at, the images fetched and judged by content,
the callback URL's handshake made (last, as the one check the receiver sees), and only then
are the inputs stored and the task created, queued (its seconds reserved, and the key's
limits checked again, exactly, in the creating transaction: :mod:`conch.quotas`).

Image work is bounded: downloads take a slot of their key's and one of everyone's
(``services.fetch_slots``: one key's slow URLs never hold up another key), data URLs take
none, and all submits together inspect at most ``services.image_work`` images at once
(about two per core). A submit's images are fetched side by side in one task group, so the
first that fails cancels the others instead of letting them download on for nobody.

Inputs are stored under a fresh random folder (``inputs/<hex>/<role>.<ext>``), recorded in
the task's ``inputs``; whatever a submit wrote is deleted again if the task is not created.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from functools import partial

import anyio
from sqlalchemy.exc import IntegrityError

from conch.delivery.handshake import confirm_callback
from conch.domain.errors import ConchError, Internal
from conch.domain.ids import new_id
from conch.domain.request import GenerationRequest, ImageRole, TaskSpec, is_data_url, validate
from conch.domain.task import StoredImage, Task
from conch.engines.registry import check_servable
from conch.logs import current_trace_id
from conch.media.fetch import fetch_image
from conch.media.images import ImageInfo, inspect_image
from conch.media.storage import input_key_in, new_inputs_folder
from conch.services import Services
from conch.store.keys import ApiKey

_ID_DRAWS = 5


async def submit(
    services: Services, owner: ApiKey, request: GenerationRequest, *, dialect: str
) -> Task:
    """Validate ``request`` completely and store it as a queued task of ``owner``."""
    await anyio.to_thread.run_sync(services.quotas.check_submit, owner)
    spec = validate(request)
    check_servable(services.settings, spec)
    for moderator in services.moderators:
        moderator.check(spec.prompt)
    await anyio.to_thread.run_sync(services.quotas.precheck, owner, spec)
    images = await _fetch_images(services, owner, spec)
    if spec.callback_url is not None:
        await confirm_callback(services, owner, spec.callback_url)
    return await anyio.to_thread.run_sync(_accept, services, owner, spec, images, dialect)


Image = tuple[bytes, ImageInfo]


async def _fetch_images(
    services: Services, owner: ApiKey, spec: TaskSpec
) -> dict[ImageRole, Image]:
    """Every image of ``spec``, fetched and judged; the first failure cancels the rest."""
    try:
        async with asyncio.TaskGroup() as group:
            fetching = {
                role: group.create_task(_fetch_image(services, owner, role, source))
                for role, source in spec.image_sources.items()
            }
    except BaseExceptionGroup as failed:
        raise _first_failure(failed) from None
    return {role: task.result() for role, task in fetching.items()}


async def _fetch_image(services: Services, owner: ApiKey, role: ImageRole, source: str) -> Image:
    settings = services.settings
    fetch = partial(
        fetch_image,
        source,
        role,
        services.outbound,
        max_bytes=settings.max_image_bytes,
        deadline=settings.fetch_deadline,
    )
    if is_data_url(source):
        data = await fetch()
    else:
        async with services.fetch_slots.held(owner.id):
            data = await fetch()
    async with services.image_work:
        info = await anyio.to_thread.run_sync(
            partial(
                inspect_image,
                data,
                role,
                max_bytes=settings.max_image_bytes,
                max_pixels=settings.max_image_pixels,
            )
        )
    return data, info


def _first_failure(failed: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a group: a caller's mistake before any other failure."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [failed]
    while pending:
        error = pending.pop(0)
        if isinstance(error, BaseExceptionGroup):
            pending[:0] = error.exceptions
        else:
            leaves.append(error)
    return next((e for e in leaves if isinstance(e, ConchError)), leaves[0])


def _accept(
    services: Services,
    owner: ApiKey,
    spec: TaskSpec,
    images: dict[ImageRole, Image],
    dialect: str,
) -> Task:
    written: list[str] = []
    try:
        inputs = _store_inputs(services, images, written)
        for _ in range(_ID_DRAWS):
            try:
                return services.tasks.create(
                    task_id=new_id(),
                    owner_id=owner.id,
                    dialect=dialect,
                    spec=_public(spec),
                    inputs=inputs,
                    trace_id=current_trace_id(),
                    admit=services.quotas.admission(owner),
                )
            except IntegrityError:  # the id was drawn twice: draw again (the inputs stay)
                continue
        raise RuntimeError("could not draw a fresh task id")
    except BaseException:
        for key in written:  # only this submit's own files
            with contextlib.suppress(Internal):  # storage is down: report the first failure
                services.media.delete(key)
        raise


def _store_inputs(
    services: Services, images: dict[ImageRole, Image], written: list[str]
) -> dict[ImageRole, StoredImage]:
    """Write the images under a fresh folder; each key is added to ``written`` once stored."""
    folder = new_inputs_folder()
    inputs: dict[ImageRole, StoredImage] = {}
    for role, (data, info) in images.items():
        key = input_key_in(folder, role.value, info.format)
        written.append(key)  # before writing: a failed write leaves the folder it made
        services.media.write(key, data)
        inputs[role] = StoredImage(key, info.format, info.width, info.height)
    return inputs


def _public(spec: TaskSpec) -> TaskSpec:
    """The spec as stored: data URLs shortened (their bytes live in media storage)."""
    sources = {role: _shorten(source) for role, source in spec.image_sources.items()}
    return dataclasses.replace(spec, image_sources=sources)


def _shorten(source: str) -> str:
    if not is_data_url(source):
        return source
    header = source.split(",", 1)[0]
    return f"{header},<{len(source) - len(header) - 1} base64 characters>"
