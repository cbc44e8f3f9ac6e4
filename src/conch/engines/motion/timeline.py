"""A camera plan laid over the clip: the camera's pose at every instant.

Segments split the clip into equal stretches in the order the prompt gives them; moves in
one segment act together. Each segment's move eases in and out, and the camera keeps what
earlier segments did, so ``[Push in], [Pan left]`` pushes in, then pans from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from conch.domain.camera import CameraMove, CameraPlan
from conch.engines.motion.easing import ease_in_out, plateau
from conch.engines.motion.geometry import STILL, CameraPose
from conch.engines.motion.moves import move_displacement, tracking_turn
from conch.engines.motion.shake import Shake

SHAKE_RAMP = 0.4
"""Seconds over which a shake fades in and out at its segment's edges."""


@dataclass(frozen=True)
class Segment:
    """One stretch of the path: where the camera goes, and whether it shakes meanwhile."""

    displacement: CameraPose
    shaking: bool = False


@dataclass(frozen=True)
class CameraPath:
    """The camera's pose over a clip of ``seconds``; time runs from 0 to 1."""

    segments: tuple[Segment, ...]
    seconds: float
    shake: Shake

    @property
    def is_still(self) -> bool:
        """True if the camera never moves."""
        return all(s.displacement == STILL and not s.shaking for s in self.segments)

    def pose(self, t: float, span: float = 1.0) -> CameraPose:
        """The camera's pose at clip time ``t`` in [0, 1].

        The segments are laid over the first ``span`` of the clip (all of it by default);
        after that the camera holds where they left it.
        """
        if not self.segments:
            return STILL
        count = len(self.segments)
        u = min(1.0, t / span)
        index = min(int(u * count), count - 1)
        local = u * count - index
        pose = STILL
        for segment in self.segments[:index]:
            pose = pose + segment.displacement
        current = self.segments[index]
        pose = pose + current.displacement.scaled(ease_in_out(local))
        if current.shaking:
            # The jitter keeps its real frequencies however the segments are laid.
            edge = min(0.5, SHAKE_RAMP * count / (self.seconds * span))
            pose = pose + self.shake.at(t * self.seconds).scaled(plateau(local, edge))
        return pose

    def end(self) -> CameraPose:
        """Where the camera finishes."""
        return self.pose(1.0)


def plan_path(
    plan: CameraPlan,
    seconds: float,
    *,
    aim: CameraPose = STILL,
    seed: int = 0,
    default: CameraPose | None = None,
) -> CameraPath:
    """The path of ``plan`` over a clip of ``seconds``.

    ``aim`` is the turn that centres the subject (for tracking shots); ``default`` is the
    move made when the plan is empty (none if None).
    """
    shake = Shake.seeded(seed)
    if plan.is_empty:
        segments = () if default is None else (Segment(default),)
        return CameraPath(segments, seconds, shake)
    share = seconds / len(plan.segments)
    built = []
    reached, aimed = STILL, False
    for segment in plan.segments:
        displacement = STILL
        for move in sorted(segment.moves):
            displacement = displacement + move_displacement(move, share)
        tracking = CameraMove.TRACKING in segment.moves
        if tracking and not aimed:
            # The subject is a target, turned toward once; a later tracking segment only
            # keeps advancing (adding the turn per segment would swing past the subject).
            displacement = displacement + tracking_turn(aim, reached)
            aimed = True
        reached = reached + displacement
        built.append(Segment(displacement, CameraMove.SHAKE in segment.moves))
    return CameraPath(tuple(built), seconds, shake)
