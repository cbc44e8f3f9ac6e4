"""Torch plumbing: frames off the device without whole-clip copies, and the dtype each
component is loaded in."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from conch.engines.diffusion.runtime import component_dtypes, text_encoder_dtype, to_frames


class LargestTensor(TorchDispatchMode):
    """Records the largest floating-point tensor any torch operation produces while active
    (the uint8 output array is preallocated whole, on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        for value in tree_flatten(result)[0]:
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                self.largest = max(self.largest, value.numel() * value.element_size())
        return result


def test_to_frames_quantises_clamps_and_lays_out_frames() -> None:
    video = torch.rand(5, 3, 8, 12)
    video[0, 0, 0, 0], video[0, 1, 0, 0], video[0, 2, 0, 0] = -0.5, 1.5, 0.5 / 255
    before = video.clone()
    frames = to_frames(video)
    assert frames.shape == (5, 8, 12, 3) and frames.dtype == np.uint8
    assert frames.flags.c_contiguous
    expected = (before.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(frames, expected)
    assert list(frames[0, 0, 0]) == [0, 255, 0]  # clamped; 0.5 rounds to even
    assert torch.equal(video, before)  # the pipeline's output is left alone


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_to_frames_never_copies_the_whole_clip(dtype: torch.dtype) -> None:
    video = torch.rand(16, 3, 32, 48).to(dtype)
    frame_as_float32 = 3 * 32 * 48 * 4
    with LargestTensor() as watch:
        frames = to_frames(video)
    assert frames.shape == (16, 32, 48, 3)
    assert 0 < watch.largest <= frame_as_float32  # one frame at a time, never the clip


def test_float16_keeps_the_t5_text_encoder_out_of_float16(monkeypatch: pytest.MonkeyPatch) -> None:
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **_: True)
    assert text_encoder_dtype(torch.float16, cuda) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **_: False)
    assert text_encoder_dtype(torch.float16, cuda) == torch.float32  # e.g. a T4 or a V100
    assert text_encoder_dtype(torch.float16, cpu) == torch.float32
    assert text_encoder_dtype(torch.bfloat16, cuda) == torch.bfloat16
    assert text_encoder_dtype(torch.float32, cpu) == torch.float32


def test_component_dtypes() -> None:
    dtypes = component_dtypes(torch.float16, torch.device("cpu"), float32=("vae", "image_encoder"))
    assert dtypes == {
        "default": torch.float16,
        "text_encoder": torch.float32,
        "vae": torch.float32,
        "image_encoder": torch.float32,
    }
