"""Tasks made straight in the store, for tests of what happens after a submit."""

from __future__ import annotations

from conch.domain.camera import CameraPlan
from conch.domain.catalog import Mode, Resolution
from conch.domain.request import TaskSpec


def text_spec(prompt: str = "a harbour", callback_url: str | None = None) -> TaskSpec:
    """A text-to-video request for MiniMax-Hailuo-02 at 768P, 6 s, as validation makes it."""
    return TaskSpec(
        model="MiniMax-Hailuo-02",
        mode=Mode.TEXT,
        prompt=prompt,
        prompt_text=prompt,
        camera_plan=CameraPlan(),
        resolution=Resolution.R768,
        duration=6,
        callback_url=callback_url,
    )
