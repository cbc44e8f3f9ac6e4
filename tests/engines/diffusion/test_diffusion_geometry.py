"""Legal render shapes, frame counts, resizing, and retiming onto the output's frames."""

from __future__ import annotations

import numpy as np
import pytest

from conch.engines.base import Soundtrack
from conch.engines.diffusion.geometry import legal_frame_count, legal_size, resize
from conch.engines.diffusion.presets import PRESETS
from conch.engines.diffusion.retime import retime, retime_sound, source_positions

LTX, FLF2V, TI2V = PRESETS["ltx-video"], PRESETS["wan2.1-flf2v-14b"], PRESETS["wan2.2-ti2v-5b"]


@pytest.mark.parametrize(
    ("size", "multiple", "max_area", "expected"),
    [
        ((1366, 768), 32, LTX.max_area, (1376, 768)),  # 768P 16:9 on LTX's grid
        ((768, 1366), 32, LTX.max_area, (768, 1376)),  # portrait
        ((1920, 1080), 32, LTX.max_area, (1376, 768)),  # 1080P, capped at the native area
        ((960, 540), 32, LTX.max_area, (960, 544)),  # half of 1080P: the upsampler's input
        ((1366, 768), 16, FLF2V.max_area, (1280, 720)),  # Wan 14B at 720P
        ((1280, 720), 32, TI2V.max_area, (1280, 704)),  # TI2V-5B's own 720P
        ((20, 10), 32, LTX.max_area, (32, 32)),  # never below one grid cell
    ],
)
def test_legal_size_keeps_the_aspect_on_the_grid(
    size: tuple[int, int], multiple: int, max_area: int, expected: tuple[int, int]
) -> None:
    width, height = legal_size(*size, multiple, max_area)
    assert (width, height) == expected
    assert width % multiple == 0 and height % multiple == 0
    assert width * height <= max(max_area, multiple * multiple) * 1.05


@pytest.mark.parametrize(
    ("frames", "native_fps", "step", "max_frames", "expected"),
    [
        (144, 24, 8, 257, 145),  # 6 s on LTX: 8k+1 just above the output's frames
        (240, 24, 8, 257, 241),  # 10 s on LTX
        (144, 16, 4, 81, 81),  # 6 s on Wan 14B: 97 wanted, 81 at most
        (144, 24, 4, 121, 121),  # 6 s on TI2V-5B: capped at its 121
        (24, 16, 4, 81, 17),  # 1 s at 16 fps
        (1, 24, 8, 257, 1),
    ],
)
def test_legal_frame_count(
    frames: int, native_fps: int, step: int, max_frames: int, expected: int
) -> None:
    count = legal_frame_count(frames, 24, native_fps, step, max_frames)
    assert count == expected
    assert (count - 1) % step == 0


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (144, 141),  # 6 s: 144 wanted, 141 (5.875 s) nearer than 158
        (240, 243),  # 10 s
        (24, 124),  # 1 s: it renders 5 s at least
        (360, 345),  # 15 s: 362 would be longer than it renders
    ],
)
def test_minimax_h3_renders_17k_plus_5_frames_between_5_and_15_seconds(
    frames: int, expected: int
) -> None:
    h3 = PRESETS["minimax-h3"]
    count = legal_frame_count(
        frames, 24, h3.fps, 17, h3.max_frames, frame_base=5, min_frames=h3.min_frames
    )
    assert count == expected and count % 17 == 5


def test_the_nearest_legal_count_wins_and_a_tie_goes_up() -> None:
    assert legal_frame_count(138, 24, 24, 8, 257) == 137  # 1 short beats 7 over
    assert legal_frame_count(141, 24, 24, 8, 257) == 145  # 4 and 4: up


def test_resize_stretches_and_leaves_a_right_sized_frame_alone() -> None:
    frame = np.zeros((36, 64, 3), np.uint8)
    assert resize(frame, 64, 36) is frame
    assert resize(frame, 64, 32).shape == (32, 64, 3)
    assert resize(frame, 128, 72).flags.c_contiguous


def test_source_positions_put_first_on_first_and_last_on_last() -> None:
    positions = source_positions(145, 144)
    assert positions[0] == 0 and positions[-1] == 144
    assert source_positions(9, 1) == [0.0]


def numbered(count: int, size: int = 16) -> list[np.ndarray]:
    return [np.full((size, size, 3), index, np.uint8) for index in range(count)]


def test_retiming_down_takes_the_nearest_frames() -> None:
    frames = numbered(145)
    out = list(retime(frames, 144))
    assert len(out) == 144
    labels = [int(frame[0, 0, 0]) for frame in out]
    assert labels[0] == 0 and labels[-1] == 144
    assert labels == sorted(labels) and len(set(labels)) == 144  # exactly one frame dropped


def test_retiming_up_morphs_a_moving_square_halfway() -> None:
    frames = []
    for left in (8, 24):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[16:32, left : left + 16] = 255
        frames.append(frame)
    out = list(retime(frames, 3))
    assert out[0] is frames[0] and out[-1] is frames[1]
    columns = np.nonzero(out[1][24, :, 0] > 127)[0]
    assert abs(columns.mean() - 23.5) < 2.5  # the square at its midway position, not two ghosts


def test_sound_is_retimed_with_its_frames_and_lasts_exactly_the_output() -> None:
    # 141 frames at 24 fps stretched over 144: the sound plays at 140/143 of its rate.
    rate = 32_000
    sound = Soundtrack(np.ones((2, round(141 / 24 * rate)), np.float32), rate)
    retimed = retime_sound(sound, 141, 24, 144, 24)
    assert retimed.sample_rate == round(rate * 140 / 143)
    assert retimed.duration == pytest.approx(6.0, abs=0.5 / retimed.sample_rate)
    assert retimed.channels == 2 and retimed.samples.dtype == np.float32


def test_retimed_sound_keeps_each_sample_under_its_frame() -> None:
    # A click made with source frame 70 of 141 plays when output frame 70 * 143 / 140 shows.
    rate = 24_000
    samples = np.zeros((1, round(141 / 24 * rate)), np.float32)
    samples[0, round(70 / 24 * rate)] = 1.0
    retimed = retime_sound(Soundtrack(samples, rate), 141, 24, 144, 24)
    click = int(np.argmax(retimed.samples[0])) / retimed.sample_rate
    assert click * 24 == pytest.approx(70 * 143 / 140, abs=0.01)


def test_sound_of_a_clip_told_another_rate_spans_its_frames() -> None:
    # LTX-2 told 25 fps for 145 frames makes 5.8 s of sound; shown over 144 frames at 24 fps.
    sound = Soundtrack(np.zeros((2, round(145 / 25 * 24_000)), np.float32), 24_000)
    retimed = retime_sound(sound, 145, 25, 144, 24)
    assert retimed.duration == pytest.approx(6.0, abs=0.001)
    assert retimed.sample_rate == round(24_000 * 24 * (144 / 143) / 25)
