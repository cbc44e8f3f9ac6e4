"""Prompts for the open models: camera language for the 15 camera commands, and each
family's recommended prompt structure.

The API has already removed the ``[...]`` camera brackets from the prompt and turned them
into a :class:`CameraPlan`. With ``prompt_optimizer`` on, the prompt becomes:

- LTX-Video (its authors ask for one flowing, chronological paragraph: the main action
  first, then details, then camera, then lighting and look): the caller's text, the
  camera sentence, then a sentence on look and motion quality.
- Wan (its authors' formula: subject and scene, motion, camera language, atmosphere and
  style): the caller's text, the camera sentence, then a sentence on atmosphere and style.
- LTX-2 (LTX's paragraph, with sound in it): as LTX, closing on look, motion and the
  sound the scene makes.
- MiniMax-H3 (MiniMax's own model, trained on prompts like the ones MiniMax's API
  receives): the caller's text and the camera sentence, nothing added.

With ``prompt_optimizer`` off the caller's text goes through untouched and the camera plan
is not worded (MiniMax documents the optimizer as the thing that expands a prompt).
The negative prompt is a model setting, used either way.
"""

from __future__ import annotations

from collections.abc import Mapping

from conch.domain.camera import CameraMove, CameraPlan, CameraSegment
from conch.domain.catalog import Mode
from conch.engines.base import Job
from conch.engines.diffusion.presets import Family

CAMERA_PHRASES: Mapping[CameraMove, str] = {
    CameraMove.TRUCK_LEFT: "glides sideways to the left",
    CameraMove.TRUCK_RIGHT: "glides sideways to the right",
    CameraMove.PAN_LEFT: "pans left",
    CameraMove.PAN_RIGHT: "pans right",
    CameraMove.PUSH_IN: "pushes in toward the subject",
    CameraMove.PULL_OUT: "pulls back away from the subject",
    CameraMove.PEDESTAL_UP: "rises straight up",
    CameraMove.PEDESTAL_DOWN: "lowers straight down",
    CameraMove.TILT_UP: "tilts up",
    CameraMove.TILT_DOWN: "tilts down",
    CameraMove.ZOOM_IN: "zooms in on the subject",
    CameraMove.ZOOM_OUT: "zooms out to a wider view",
    CameraMove.SHAKE: "shakes as if handheld",
    CameraMove.TRACKING: "tracks alongside the subject as it moves",
    CameraMove.STATIC: "holds perfectly still in a static shot",
}
"""Camera language for each of MiniMax's 15 commands, as what "the camera" does."""

_ORDER = {move: index for index, move in enumerate(CameraMove)}

_CLOSING: Mapping[Family, str] = {
    Family.LTX: (
        "The scene looks like real footage, with natural lighting, lifelike detail and "
        "smooth, continuous motion."
    ),
    Family.WAN: (
        "Cinematic atmosphere, natural light, realistic style, rich detail, smooth and "
        "coherent motion."
    ),
    Family.LTX2: (
        "The scene looks like real footage, with natural lighting, lifelike detail, smooth "
        "motion and the natural sound of the scene."
    ),
    Family.H3: "",
}

_OPENING_FOR_IMAGES = "The scene in the picture comes to life."
"""What an image-led video is about when the caller wrote no prompt."""

NEGATIVE_PROMPTS: Mapping[Family, str] = {
    Family.LTX: "worst quality, blurry, jittery, inconsistent motion, distorted, watermark",
    Family.WAN: (
        "oversaturated colours, overexposed, static frame, blurred details, subtitles, text, "
        "watermark, worst quality, low quality, JPEG artefacts, ugly, deformed, extra "
        "fingers, badly drawn hands, badly drawn face, fused fingers, malformed limbs, "
        "cluttered background, many people in the background, walking backwards"
    ),
    Family.LTX2: (
        "worst quality, blurry, jittery, inconsistent motion, distorted, watermark, "
        "muffled or distorted sound"
    ),
    Family.H3: "",
}
"""What each family is steered away from (unused by guidance-distilled models: H3 has no
negative prompt at all)."""


def camera_sentence(plan: CameraPlan) -> str:
    """The plan in words: "The camera pans left and rises straight up, then pushes in ..."."""
    if plan.is_empty:
        return ""
    clauses = [_segment_clause(segment) for segment in plan.segments]
    return "The camera " + ", then ".join(clauses) + "."


def _segment_clause(segment: CameraSegment) -> str:
    phrases = [CAMERA_PHRASES[move] for move in sorted(segment.moves, key=_ORDER.__getitem__)]
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def compose_prompt(job: Job, family: Family) -> str:
    """The prompt the model gets for ``job``."""
    if not job.prompt_optimizer:
        return job.prompt
    opening = job.prompt.strip() or ("" if job.mode is Mode.TEXT else _OPENING_FOR_IMAGES)
    parts = [_as_sentence(opening), camera_sentence(job.camera_plan), _CLOSING[family]]
    return " ".join(part for part in parts if part)


def _as_sentence(text: str) -> str:
    if not text or text[-1] in ".!?。！？":
        return text
    return text + "."
