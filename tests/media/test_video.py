"""The encoder: real MP4s, decoded back with PyAV and checked."""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conch.domain.catalog import FPS
from conch.engines.base import Soundtrack
from conch.media import video
from conch.media.quality import psnr
from conch.media.video import (
    aigc_label,
    apply_watermark,
    encode_mp4,
    probe,
    watermark_patch,
)
from support.photos import photo

WIDTH, HEIGHT = 320, 180


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _photo_frames(count: int) -> list[np.ndarray]:
    base = cv2.resize(photo("coffee"), (WIDTH + 4 * count, HEIGHT), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(base[:, 4 * i : 4 * i + WIDTH]) for i in range(count)]


def test_an_mp4_holds_every_frame_at_24_fps(tmp_path: Path) -> None:
    frames = _photo_frames(30)
    info = encode_mp4(iter(frames), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="42")
    assert (info.frames, info.width, info.height, info.fps) == (30, WIDTH, HEIGHT, FPS)
    probed = probe(tmp_path / "out.mp4")
    assert (probed.width, probed.height, probed.frames) == (WIDTH, HEIGHT, 30)
    assert probed.fps == pytest.approx(24.0)
    assert (probed.codec, probed.pix_fmt) == ("h264", "yuv420p")
    assert info.bytes == (tmp_path / "out.mp4").stat().st_size


def test_decoded_frames_equal_the_inputs_within_encoder_noise(tmp_path: Path) -> None:
    frames = _photo_frames(12)
    encode_mp4(frames, tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1")
    decoded = _decode(tmp_path / "out.mp4")
    assert len(decoded) == len(frames)
    for original, back in zip(frames, decoded, strict=True):
        assert psnr(back, original) > 33


def test_the_movie_atom_comes_first_for_streaming(tmp_path: Path) -> None:
    encode_mp4(_photo_frames(5), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1")
    data = (tmp_path / "out.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")


def test_every_file_carries_the_aigc_label(tmp_path: Path) -> None:
    encode_mp4(_photo_frames(3), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="176843862716480")
    metadata = probe(tmp_path / "out.mp4").metadata
    label = json.loads(metadata["AIGC"])
    assert label == aigc_label("176843862716480")
    assert label["Label"] == "1" and label["ContentProducer"] == "conch"
    assert "AIGC" in metadata["comment"]


def test_the_watermark_is_visible_where_asked(tmp_path: Path) -> None:
    grey = [np.full((HEIGHT, WIDTH, 3), 128, np.uint8)] * 4
    encode_mp4(grey, tmp_path / "plain.mp4", WIDTH, HEIGHT, produce_id="1")
    encode_mp4(grey, tmp_path / "marked.mp4", WIDTH, HEIGHT, produce_id="1", watermark=True)
    plain, marked = _decode(tmp_path / "plain.mp4")[0], _decode(tmp_path / "marked.mp4")[0]
    x, y, patch = watermark_patch(WIDTH, HEIGHT)
    h, w = patch.shape[:2]
    difference = np.abs(marked.astype(np.int16) - plain).max(axis=2)
    inside = difference[y : y + h, x : x + w]
    assert (inside > 60).sum() > 50, "bright letters on a dark plate"
    outside = difference.copy()
    outside[max(0, y - 4) : y + h + 4, max(0, x - 4) : x + w + 4] = 0
    assert outside.max() < 12, "and nothing else changes"


def test_the_watermark_sits_in_the_bottom_right_corner() -> None:
    for width, height in ((1366, 768), (1920, 1080), (512, 910)):
        x, y, patch = watermark_patch(width, height)
        h, w = patch.shape[:2]
        assert width / 2 < x and x + w <= width and height / 2 < y and y + h <= height


def test_applying_the_watermark_leaves_the_engine_frame_alone() -> None:
    frame = np.full((HEIGHT, WIDTH, 3), 50, np.uint8)
    marked = apply_watermark(frame, watermark_patch(WIDTH, HEIGHT))
    assert (frame == 50).all() and not np.array_equal(marked, frame)


def test_a_wrong_frame_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frame 1"):
        frames = [np.zeros((HEIGHT, WIDTH, 3), np.uint8), np.zeros((10, 10, 3), np.uint8)]
        encode_mp4(frames, tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1")


def _encoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "conch-encoder" and t.is_alive()]


@pytest.mark.timeout(30)
def test_an_engine_error_surfaces_and_stops_the_encoder(tmp_path: Path) -> None:
    class Taken(Exception):
        pass

    def frames() -> Iterator[np.ndarray]:
        yield from _photo_frames(20)
        raise Taken

    with pytest.raises(Taken):
        encode_mp4(frames(), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1")
    assert not _encoder_threads(), "the encoder thread is gone"


class _FailingStream:
    """A real stream whose encoder raises: on the final flush, or at frame ``fail_at``."""

    def __init__(self, stream: av.VideoStream, fail_at: int | None = None) -> None:
        self.stream, self.fail_at, self.frames = stream, fail_at, 0

    def encode(self, frame: av.VideoFrame | None = None) -> list[av.Packet]:
        if frame is None and self.fail_at is None:
            raise OSError("disk full on the final flush")
        if frame is not None:
            self.frames += 1
            if self.frames == self.fail_at:
                raise OSError(f"disk full at frame {self.frames}")
        return self.stream.encode(frame)


def _failing_encoder(monkeypatch: pytest.MonkeyPatch, fail_at: int | None) -> None:
    class Failing(video._EncoderThread):
        def __init__(self, container: av.container.OutputContainer, stream: av.VideoStream):
            super().__init__(container, _FailingStream(stream, fail_at))  # type: ignore[arg-type]

    monkeypatch.setattr(video, "_EncoderThread", Failing)


def _encode_in_thread(frames: Iterator[np.ndarray], path: Path) -> BaseException | None:
    """Run the encoder in a thread and wait a bounded time: a hang fails, not blocks, the test."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            encode_mp4(frames, path, WIDTH, HEIGHT, produce_id="1")
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert not caller.is_alive(), "encode_mp4 is stuck"
    return outcome[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fail_at", [None, 5], ids=["on the final flush", "mid-stream"])
def test_an_encoder_error_reaches_the_caller_without_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int | None
) -> None:
    _failing_encoder(monkeypatch, fail_at)
    closed = threading.Event()

    def frames() -> Iterator[np.ndarray]:
        try:
            yield from _photo_frames(30)
        finally:
            closed.set()

    stream = frames()
    error = _encode_in_thread(stream, tmp_path / "out.mp4")
    assert isinstance(error, RuntimeError), error
    assert "encoder failed" in str(error) and isinstance(error.__cause__, OSError)
    assert not _encoder_threads(), "the encoder thread is gone"
    if fail_at is not None:
        assert closed.is_set(), "the stopped generator was closed, not left holding frames"


def test_frames_stream_through_the_encoder(tmp_path: Path) -> None:
    # A long clip made frame by frame: at each yield, only a few earlier frames may be alive.
    alive: list[weakref.ref[np.ndarray]] = []
    most = 0

    def frames() -> Iterator[np.ndarray]:
        nonlocal most
        for index in range(240):
            frame = np.full((HEIGHT, WIDTH, 3), index % 256, np.uint8)
            alive.append(weakref.ref(frame))
            most = max(most, sum(ref() is not None for ref in alive))
            yield frame
            del frame

    info = encode_mp4(frames(), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1")
    assert info.frames == len(alive) == 240
    assert most <= 3, f"{most} frames were alive at once"


def _tone(
    seconds: float, rate: int, channels: int = 2, burst_at: float | None = None
) -> Soundtrack:
    """A quiet tone per channel (440 Hz left, 660 Hz right), with a loud burst from
    ``burst_at`` seconds on if asked."""
    t = np.arange(round(seconds * rate)) / rate
    tones = [0.1 * np.sin(2 * np.pi * hz * t) for hz in (440, 660)[:channels]]
    samples = np.stack(tones).astype(np.float32)
    if burst_at is not None:
        samples[:, round(burst_at * rate) :] *= 8
    return Soundtrack(samples, rate)


def _grey_frames(count: int, bright_from: int | None = None) -> list[np.ndarray]:
    frames = [np.full((HEIGHT, WIDTH, 3), 40, np.uint8) for _ in range(count)]
    for frame in frames[bright_from:] if bright_from is not None else []:
        frame[:] = 220
    return frames


def _onset(samples: np.ndarray, rate: int) -> float:
    """Seconds to the first sample of the loud part of a decoded track."""
    return float(np.argmax(np.abs(samples[0]) > 0.5)) / rate


@pytest.mark.parametrize("channels", [2, 1], ids=["stereo", "mono"])
def test_sound_becomes_an_aac_track_exactly_as_long_as_the_video(
    tmp_path: Path, channels: int
) -> None:
    sound = _tone(6.0, 32_000, channels)
    path = tmp_path / "out.mp4"
    info = encode_mp4(_grey_frames(144), path, WIDTH, HEIGHT, produce_id="1", sound=lambda: sound)
    probed = probe(path)
    assert probed.audio is not None
    assert (probed.audio.codec, probed.audio.channels) == ("aac", channels)
    assert probed.audio.sample_rate == video.AUDIO_RATE
    assert probed.duration == pytest.approx(6.0)
    assert probed.audio.duration == pytest.approx(6.0, abs=1e-6)
    assert info.audio_channels == channels
    assert probed.frames == 144


def test_the_sound_stays_in_sync_with_the_picture(tmp_path: Path) -> None:
    # At 3 s the picture turns bright (frame 72) and the sound turns loud, in the same instant.
    sound = _tone(6.0, 24_000, burst_at=3.0)
    path = tmp_path / "out.mp4"
    encode_mp4(_grey_frames(144, 72), path, WIDTH, HEIGHT, produce_id="1", sound=lambda: sound)
    pictures = _decode(path)
    assert pictures[71].mean() < 100 < pictures[72].mean()
    audio = probe(path).audio
    assert audio is not None
    # Within a millisecond: AAC's priming samples are cut by the file's edit list.
    assert _onset(audio.samples, audio.sample_rate) == pytest.approx(3.0, abs=0.001)


def test_a_sound_a_few_samples_short_is_padded_to_the_videos_duration(tmp_path: Path) -> None:
    # A model's sound rarely ends exactly on a frame: 31329 Hz (an odd, retimed rate) for 6 s.
    rate = 31_329
    sound = Soundtrack(_tone(6.0, rate).samples[:, :-40], rate)
    path = tmp_path / "out.mp4"
    encode_mp4(_grey_frames(144), path, WIDTH, HEIGHT, produce_id="1", sound=lambda: sound)
    audio = probe(path).audio
    assert audio is not None and audio.duration == pytest.approx(6.0, abs=1e-6)


def test_a_silent_video_has_no_audio_track(tmp_path: Path) -> None:
    for name, sound in (("none.mp4", None), ("silent.mp4", lambda: None)):
        info = encode_mp4(
            _grey_frames(24), tmp_path / name, WIDTH, HEIGHT, produce_id="1", sound=sound
        )
        with av.open(str(tmp_path / name)) as container:
            assert [s.type for s in container.streams] == ["video"]
        assert info.audio_channels == 0 and probe(tmp_path / name).audio is None


def test_the_sound_is_asked_for_once_the_first_frame_is_drawn(tmp_path: Path) -> None:
    made: list[Soundtrack] = []  # an engine knows its sound once it has rendered

    def frames() -> Iterator[np.ndarray]:
        made.append(_tone(1.0, 16_000))
        yield from _grey_frames(24)

    asked: list[int] = []

    def sound() -> Soundtrack | None:
        asked.append(len(made))
        return made[0] if made else None

    encode_mp4(frames(), tmp_path / "out.mp4", WIDTH, HEIGHT, produce_id="1", sound=sound)
    assert asked == [1]
    assert probe(tmp_path / "out.mp4").audio is not None


def test_sound_that_does_not_last_as_long_as_the_video_is_refused(tmp_path: Path) -> None:
    sound = _tone(5.0, 32_000)
    with pytest.raises(
        ValueError, match=r"sound lasts 5.000 s but the 144 frames at 24 fps last 6.000 s"
    ):
        encode_mp4(
            _grey_frames(144),
            tmp_path / "out.mp4",
            WIDTH,
            HEIGHT,
            produce_id="1",
            sound=lambda: sound,
        )


def test_a_soundtrack_is_channels_by_samples() -> None:
    with pytest.raises(ValueError, match="1 or 2 channels"):
        Soundtrack(np.zeros((6, 100), np.float32), 48_000)
    with pytest.raises(ValueError, match="sample rate"):
        Soundtrack(np.zeros((2, 100), np.float32), 0)
    assert Soundtrack(np.zeros((2, 48_000), np.float32), 48_000).duration == 1.0
