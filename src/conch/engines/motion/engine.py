"""The motion engine: real camera moves over a still, real transitions between two frames.

It needs no model weights and runs on any CPU. It cannot invent pictures, so it serves the
modes that bring their own: image to video, and first and last frame (including a last
frame alone).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np

from conch.domain.camera import CameraMove, CameraPlan
from conch.domain.catalog import Mode
from conch.engines.base import EngineFailure, Frame, Job, ProgressFn
from conch.engines.motion.easing import clip_time
from conch.engines.motion.framing import Pin, choose_pin, framed_views, still_reach
from conch.engines.motion.geometry import STILL, CameraPose, Lens, is_identity
from conch.engines.motion.morph import CameraTransition, related
from conch.engines.motion.moves import gentle_push
from conch.engines.motion.reading import FrameMotion, read_plan
from conch.engines.motion.still import render_views
from conch.engines.motion.subject import aim_at, subject_point
from conch.engines.motion.timeline import CameraPath, plan_path
from conch.engines.motion.whip import Whip, direction_of


class MotionEngine:
    """Animates the frames a job brings, following its camera plan."""

    name: ClassVar[str] = "motion"

    def generate(self, job: Job, progress: ProgressFn) -> Iterator[Frame]:
        """Yield ``job.frame_count`` RGB frames of ``job.height`` x ``job.width``, streamed."""
        frames = self._frames(job)
        try:
            for index, frame in enumerate(frames):
                progress(index / job.frame_count)
                yield frame
            progress(1.0)
        finally:
            # Closed early (an abort, an encoder error): stop the inner generator now.
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        """Nothing is held between jobs."""

    def _frames(self, job: Job) -> Iterator[Frame]:
        first, last = _checked(job.first_frame, job), _checked(job.last_frame, job)
        if job.mode is Mode.IMAGE and first is not None:
            return _animate_still(first, job)
        if job.mode is Mode.FIRST_LAST and first is not None and last is not None:
            return _between(first, last, job)
        if job.mode is Mode.FIRST_LAST and last is not None:
            return _land_on(last, job)
        raise EngineFailure(
            f"the motion engine renders {Mode.IMAGE} and {Mode.FIRST_LAST} from given frames; "
            f"this job is {job.mode} with "
            f"{'a' if first is not None else 'no'} first and "
            f"{'a' if last is not None else 'no'} last frame"
        )


def _checked(frame: Frame | None, job: Job) -> Frame | None:
    if frame is None:
        return None
    expected = (job.height, job.width, 3)
    if frame.shape != expected or frame.dtype != np.uint8:
        raise EngineFailure(
            f"input frame is {frame.shape} {frame.dtype}, expected {expected} uint8 "
            "(the runner fits frames to the output size)"
        )
    return np.ascontiguousarray(frame)


def _seconds(job: Job) -> float:
    return job.frame_count / job.fps


def _path(
    job: Job, picture: Frame, default: CameraPose | None, plan: CameraPlan | None = None
) -> CameraPath:
    """The camera path of ``plan`` (the job's own by default) over ``picture``."""
    plan = job.camera_plan if plan is None else plan
    aim = STILL
    if any(CameraMove.TRACKING in segment.moves for segment in plan.segments):
        aim = aim_at(subject_point(picture), Lens(job.width, job.height))
    return plan_path(plan, _seconds(job), aim=aim, seed=job.seed, default=default)


def _animate_still(first: Frame, job: Job) -> Iterator[Frame]:
    """Image to video: the clip begins on the picture itself, whatever the move; a move that
    looks past the picture's edges sees a little of it extended (:mod:`.extension`)."""
    lens = Lens(job.width, job.height)
    path = _path(job, first, gentle_push(_seconds(job)))
    reach = still_reach(lens)
    views = framed_views(path, lens, job.frame_count, Pin.START, reach=reach)
    return render_views(first, views, reach)


def _land_on(last: Frame, job: Job) -> Iterator[Frame]:
    """A last frame alone: the camera moves and lands exactly on it.

    With no command the camera pulls back onto the picture. A move that would have to start
    much wider than the picture (a push in) comes and goes instead, still ending on it.
    """
    lens = Lens(job.width, job.height)
    path = _path(job, last, gentle_push(_seconds(job)).scaled(-1.0))
    reach = still_reach(lens)
    # Chosen as if there were no extension: a push in compensated by zoom barely moves.
    pin = choose_pin(path, lens, Pin.END, Pin.BOTH)
    views = framed_views(path, lens, job.frame_count, pin, reach=reach)
    return render_views(last, views, reach)


def _between(first: Frame, last: Frame, job: Job) -> Iterator[Frame]:
    """First and last frame: a transition along the motion between them, or, for two
    pictures of different things, a whip pan from one into the other (:mod:`.whip`)."""
    transition = related(first, last)
    if transition is None:
        return Whip(first, last, direction_of(job.camera_plan)).frames(job.frame_count)
    return transition_frames(transition, job)


def transition_frames(transition: CameraTransition, job: Job) -> Iterator[Frame]:
    """The frames' own motion, shaped by the commands that agree with it; commands it cannot
    show play as a detour on top (see :mod:`.reading`)."""
    first, last = transition.first, transition.last
    lens = Lens(job.width, job.height)
    reading = read_plan(job.camera_plan, FrameMotion.of(transition.full_camera, lens))
    path = _path(job, first, None, reading.detour)
    times = [clip_time(index, job.frame_count) for index in range(job.frame_count)]
    camera_times = [reading.camera_time(t) for t in times]
    sources = transition.sources(camera_times)
    views = framed_views(path, lens, job.frame_count, Pin.BOTH, sources)
    for index, view in enumerate(views):
        if index == 0 and is_identity(view):
            yield first
        elif index == job.frame_count - 1 and is_identity(view):
            yield last
        else:
            yield transition.frame(times[index], view, camera_times[index])
