"""The model catalog: which modes each public model offers, its duration x resolution
matrix, its defaults, and the pixel size of an output at a resolution tier.

The figures are MiniMax's (``api-notes.md`` §1). Where MiniMax's own tables disagree (the
01-series and 1080P) we follow public clients: 01-series models are fixed at 6 s / 720P.

MiniMax-H3 (MiniMax's v2 API, ``docs/dialects.md``) takes any whole number of seconds from 5
to 15, the 768P and 2K tiers, and an aspect ratio (``ratio``) that sets the output's shape
when it has no frame to follow; its image modes also take ``adaptive`` (follow the frame).
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
    """A resolution tier; its number is the short side of the output in pixels (2K's is
    1440, as MiniMax-H3's 2K videos are)."""

    R512 = "512P"
    R720 = "720P"
    R768 = "768P"
    R1080 = "1080P"
    R2K = "2K"

    @property
    def short_side(self) -> int:
        return TWO_K_SHORT_SIDE if self is Resolution.R2K else int(self.value[:-1])

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


TWO_K_SHORT_SIDE = 1440
"""The short side of a 2K video (2560x1440 at 16:9)."""

FPS = 24
"""Every output runs at 24 frames per second."""

ADAPTIVE = "adaptive"
"""The ratio that follows the given frame (MiniMax-H3's image modes)."""
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
"""The aspect ratios MiniMax-H3 renders (width:height)."""


def ratio_aspect(ratio: str) -> tuple[int, int]:
    """``"16:9"`` as (16, 9)."""
    width, height = ratio.split(":")
    return int(width), int(height)


Matrix = Mapping[Mode, Mapping[Resolution, tuple[int, ...]]]


@dataclass(frozen=True)
class ModelSpec:
    """One public model name and what it accepts."""

    name: str
    matrix: Matrix
    default_resolution: Resolution
    camera_commands: bool = False
    fast_pretreatment: bool = False
    ratios: tuple[str, ...] = ()
    """The aspect ratios it takes (none: its videos follow the frame, else 16:9)."""
    default_duration: int = 6
    """Seconds when the caller names none (MiniMax-H3: 5, as MiniMax's v2 API)."""

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
            allowed = _durations(durations)
            raise InvalidParams(
                f"{self.name} at {resolution} allows duration {allowed} (seconds), got {duration}",
                field="duration",
            )

    def check_ratio(self, mode: Mode, ratio: str | None) -> str | None:
        """The ratio a ``mode`` request of this model asked for (None: follow the frame, or
        16:9 without one); InvalidParams for one it does not take."""
        if ratio is None:
            return None
        if not self.ratios:
            raise InvalidParams(
                f"{self.name} takes no ratio: its video follows the first frame, or is 16:9 "
                "without one",
                field="ratio",
            )
        allowed = self.ratios if mode is Mode.TEXT else (ADAPTIVE, *self.ratios)
        if ratio not in allowed:
            raise InvalidParams(
                f"{self.name} {mode} allows {_join(allowed)}, got {ratio!r}", field="ratio"
            )
        return None if ratio == ADAPTIVE else ratio


def _durations(durations: tuple[int, ...]) -> str:
    """``6 or 10``; a run of whole seconds as ``5 to 15``."""
    run = len(durations) > 2 and durations == tuple(range(durations[0], durations[-1] + 1))
    return f"{durations[0]} to {durations[-1]}" if run else " or ".join(map(str, durations))


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
_H3_SECONDS = tuple(range(5, 16))
"""5 to 15 s: what the open weights render (124 to 345 frames at 24 fps, see
``engines/diffusion/presets.py``); MiniMax's own service documents 4 to 15 for H3."""
_H3: Matrix = {
    mode: {Resolution.R768: _H3_SECONDS, Resolution.R2K: _H3_SECONDS}
    for mode in (Mode.TEXT, Mode.IMAGE, Mode.FIRST_LAST)
}


def _specs() -> tuple[ModelSpec, ...]:
    r768, r720 = Resolution.R768, Resolution.R720
    return (
        ModelSpec("MiniMax-Hailuo-2.3", _HAILUO_23, r768, True, True),
        ModelSpec(
            "MiniMax-Hailuo-2.3-Fast", {Mode.IMAGE: _HAILUO_23[Mode.IMAGE]}, r768, True, True
        ),
        ModelSpec("MiniMax-Hailuo-02", _HAILUO_02, r768, True, True),
        ModelSpec("MiniMax-H3", _H3, r768, ratios=RATIOS, default_duration=5),
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
    ratio: str | None = None,
) -> tuple[int, int]:
    """The output size: the ``ratio`` asked for, else it follows the first frame, else the
    last frame (each a width and a height, when given), else 16:9. (Frames are then fitted
    to it: scaled to cover, and cropped.)"""
    source = None
    if mode in (Mode.IMAGE, Mode.FIRST_LAST):
        source = first_frame or last_frame
    if ratio is not None:
        source = ratio_aspect(ratio)
    width, height = source or DEFAULT_ASPECT
    return output_size(resolution, width, height)


def frame_count(duration: int) -> int:
    """Frames in an output of ``duration`` seconds: exact, at :data:`FPS`."""
    return duration * FPS
