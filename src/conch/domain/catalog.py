"""The model catalog: which modes each public model offers, its duration x resolution
matrix, its defaults, and the pixel size of an output at a resolution tier.

The figures are MiniMax's (``api-notes.md`` §1). Where MiniMax's own tables disagree (the
01-series and 1080P) we follow public clients: 01-series models are fixed at 6 s / 720P.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from conch.domain.errors import InvalidParams


class Mode(StrEnum):
    """What the caller gives the model to start from."""

    TEXT = "text-to-video"
    IMAGE = "image-to-video"
    FIRST_LAST = "first-last-frame"
    SUBJECT = "subject-reference"


class Resolution(StrEnum):
    """A resolution tier; its number is the short side of the output in pixels."""

    R512 = "512P"
    R720 = "720P"
    R768 = "768P"
    R1080 = "1080P"

    @property
    def short_side(self) -> int:
        return int(self.value[:-1])

    @classmethod
    def parse(cls, text: str) -> Resolution:
        """Read a tier name, forgiving case ('1080p'); refuse anything else."""
        try:
            return cls(text.strip().upper())
        except ValueError:
            allowed = ", ".join(r.value for r in cls)
            raise InvalidParams(
                f"must be one of {allowed}, got {text!r}", field="resolution"
            ) from None


FPS = 24
"""Every output runs at 24 frames per second."""

Matrix = Mapping[Mode, Mapping[Resolution, tuple[int, ...]]]


@dataclass(frozen=True)
class ModelSpec:
    """One public model name and what it accepts."""

    name: str
    matrix: Matrix
    default_resolution: Resolution
    camera_commands: bool = False
    fast_pretreatment: bool = False

    @property
    def modes(self) -> tuple[Mode, ...]:
        return tuple(self.matrix)

    def default_resolution_for(self, mode: Mode) -> Resolution:
        tiers = self.matrix[mode]
        return self.default_resolution if self.default_resolution in tiers else next(iter(tiers))

    def check_mode(self, mode: Mode) -> None:
        """Raise :class:`InvalidParams` unless this model offers ``mode``."""
        if mode not in self.matrix:
            raise InvalidParams(
                f"{self.name} does not offer {mode}; it offers {_join(self.modes)}", field="model"
            )

    def check(self, mode: Mode, resolution: Resolution, duration: int) -> None:
        """Raise :class:`InvalidParams` unless this mode, tier and duration go together."""
        self.check_mode(mode)
        tiers = self.matrix[mode]
        if resolution not in tiers:
            raise InvalidParams(
                f"{self.name} {mode} allows {_join(tiers)}, got {resolution}", field="resolution"
            )
        durations = tiers[resolution]
        if duration not in durations:
            allowed = " or ".join(str(d) for d in durations)
            raise InvalidParams(
                f"{self.name} at {resolution} allows duration {allowed} (seconds), got {duration}",
                field="duration",
            )


def _join(items: object) -> str:
    return ", ".join(str(i) for i in items)  # type: ignore[attr-defined]


_SIX_OR_TEN = (6, 10)
_SIX = (6,)
_HAILUO_23: Matrix = {
    Mode.TEXT: {Resolution.R768: _SIX_OR_TEN, Resolution.R1080: _SIX},
    Mode.IMAGE: {Resolution.R768: _SIX_OR_TEN, Resolution.R1080: _SIX},
}
_HAILUO_02: Matrix = {
    Mode.TEXT: {Resolution.R768: _SIX_OR_TEN, Resolution.R1080: _SIX},
    Mode.IMAGE: {
        Resolution.R512: _SIX_OR_TEN,
        Resolution.R768: _SIX_OR_TEN,
        Resolution.R1080: _SIX,
    },
    Mode.FIRST_LAST: {Resolution.R768: _SIX_OR_TEN, Resolution.R1080: _SIX},
}
_V01_TEXT: Matrix = {Mode.TEXT: {Resolution.R720: _SIX}}
_V01_IMAGE: Matrix = {Mode.IMAGE: {Resolution.R720: _SIX}}
_V01_BOTH: Matrix = {**_V01_TEXT, **_V01_IMAGE}


def _specs() -> tuple[ModelSpec, ...]:
    r768, r720 = Resolution.R768, Resolution.R720
    return (
        ModelSpec("MiniMax-Hailuo-2.3", _HAILUO_23, r768, True, True),
        ModelSpec(
            "MiniMax-Hailuo-2.3-Fast", {Mode.IMAGE: _HAILUO_23[Mode.IMAGE]}, r768, True, True
        ),
        ModelSpec("MiniMax-Hailuo-02", _HAILUO_02, r768, True, True),
        ModelSpec("T2V-01-Director", _V01_TEXT, r720, camera_commands=True),
        ModelSpec("T2V-01", _V01_TEXT, r720),
        ModelSpec("I2V-01-Director", _V01_IMAGE, r720, camera_commands=True),
        ModelSpec("I2V-01-live", _V01_IMAGE, r720),
        ModelSpec("I2V-01", _V01_IMAGE, r720),
        ModelSpec("S2V-01", {Mode.SUBJECT: {r720: _SIX}}, r720),
        # Legacy names that older clients still send.
        ModelSpec("video-01", _V01_BOTH, r720),
        ModelSpec("video-01-live2d", _V01_IMAGE, r720),
    )


CATALOG: Mapping[str, ModelSpec] = {spec.name: spec for spec in _specs()}
"""Every public model name conch accepts, exactly as callers spell it."""


def model_spec(name: str) -> ModelSpec:
    """The spec of a model by its exact (case-sensitive) name."""
    try:
        return CATALOG[name]
    except KeyError:
        raise InvalidParams(
            f"unknown model {name!r}; allowed: {_join(CATALOG)}", field="model"
        ) from None


def output_size(resolution: Resolution, width: int, height: int) -> tuple[int, int]:
    """The output's (width, height): the source's aspect, the short side at the tier.

    Both sides are even (H.264 with 4:2:0 chroma needs it). 16:9 gives 1280x720, 1366x768
    and 1920x1080, MiniMax's published sizes.
    """
    short = resolution.short_side
    long = round(short * max(width, height) / min(width, height) / 2) * 2
    return (long, short) if width >= height else (short, long)


DEFAULT_ASPECT = (16, 9)
"""The aspect of a video that has no frame to follow (text to video, subject reference)."""


def video_size(
    mode: Mode,
    resolution: Resolution,
    first_frame: tuple[int, int] | None,
    last_frame: tuple[int, int] | None,
) -> tuple[int, int]:
    """The output size: it follows the first frame, else the last frame (each a width and
    a height, when given), else 16:9."""
    source = None
    if mode in (Mode.IMAGE, Mode.FIRST_LAST):
        source = first_frame or last_frame
    width, height = source or DEFAULT_ASPECT
    return output_size(resolution, width, height)


def frame_count(duration: int) -> int:
    """Frames in an output of ``duration`` seconds: exact, at :data:`FPS`."""
    return duration * FPS
