"""The one encoder: frames in, an H.264 MP4 out (yuv420p, faststart), labelled as AIGC.

Every file conch writes carries an implicit AIGC label in its container metadata (an
``AIGC`` tag holding a JSON record after GB 45438-2025, and a plain ``comment``); with
``watermark`` it also carries a visible mark in a corner of every frame.

When the engine made sound, the file also carries it as an AAC track (48 kHz, the sound's
own channels), starting with the first frame and lasting exactly as long as the video; a
silent video has no audio track at all.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, Protocol

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from conch.domain.catalog import FPS

DEFAULT_PRESET = "superfast"
"""x264 preset, chosen by ``benchmarks/render.py``: on the 6 s 768P first+last render it was
as fast as ``ultrafast`` (whose files are 5x larger) and faster than ``veryfast``, with a
higher PSNR against the engine's frames than ``veryfast`` at 1.8x the size (~1.3 MB)."""

DEFAULT_CRF = 20
PRODUCER = "conch"
WATERMARK_TEXT = "AI-generated"

AUDIO_CODEC: Final = "aac"
AUDIO_RATE = 48_000
"""Every audio track is AAC at 48 kHz, the rate of video production, whatever the model's."""
AUDIO_BITRATE = 96_000
"""Bits per second per channel."""
AUDIO_FRAME = 1024
"""Samples per AAC frame."""
LAYOUTS = {1: "mono", 2: "stereo"}


class Sound(Protocol):
    """Sound to mux: float samples in [-1, 1], (channels, count), at ``sample_rate``."""

    @property
    def samples(self) -> np.ndarray: ...

    @property
    def sample_rate(self) -> int: ...


SoundSource = Callable[[], Sound | None]
"""Asked once, when the first frame has been drawn, for the sound of the video (None: silent)."""


@dataclass(frozen=True)
class VideoInfo:
    """What was written (``audio_channels`` 0: no audio track)."""

    path: Path
    width: int
    height: int
    frames: int
    fps: int
    bytes: int
    audio_channels: int = 0


def aigc_label(produce_id: str) -> dict[str, str]:
    """The implicit AIGC label stored in the file's metadata."""
    return {"Label": "1", "ContentProducer": PRODUCER, "ProduceID": produce_id}


def encode_mp4(
    frames: Iterable[np.ndarray],
    path: Path,
    width: int,
    height: int,
    *,
    produce_id: str,
    fps: int = FPS,
    watermark: bool = False,
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    sound: SoundSource | None = None,
) -> VideoInfo:
    """Stream ``frames`` (RGB uint8, height x width x 3) into an MP4 at ``path``.

    Frames are drawn from ``frames`` in the calling thread (so an engine's exceptions, an
    abort included, surface here) and encoded in a second thread, so that rendering the
    next frame overlaps encoding the last. At most a few frames wait between the two.

    ``sound``, if given, is asked for the video's sound once the first frame is drawn (an
    engine knows its sound by then). The sound must last as long as the frames (``frames /
    fps`` seconds, to within a frame) or the file is abandoned with ValueError; it is
    written as AAC, cut or padded to exactly the video's duration.
    """
    mark = watermark_patch(width, height) if watermark else None
    try:
        drawn = _FirstDrawn(iter(frames))
        soundtrack = sound() if sound is not None and not drawn.empty else None
        count = _write(
            path, drawn, (width, height, fps), produce_id, (preset, crf, mark), soundtrack
        )
    finally:
        # A generator stopped early (an error here or in the encoder) lets go of its frames
        # and runs its own clean-up now, not whenever it is collected.
        close = getattr(frames, "close", None)
        if close is not None:
            close()
    channels = 0 if soundtrack is None else soundtrack.samples.shape[0]
    return VideoInfo(path, width, height, count, fps, path.stat().st_size, channels)


class _FirstDrawn(Iterator[np.ndarray]):
    """``frames`` with the first one drawn ahead, so that its engine's sound is known."""

    def __init__(self, frames: Iterator[np.ndarray]) -> None:
        self._frames = frames
        self._first: np.ndarray | None = next(frames, None)
        self.empty = self._first is None

    def __next__(self) -> np.ndarray:
        if self._first is None:
            return next(self._frames)
        first, self._first = self._first, None  # held no longer than the caller holds it
        return first


def _write(
    path: Path,
    frames: Iterator[np.ndarray],
    shape: tuple[int, int, int],
    produce_id: str,
    look: tuple[str, int, tuple[int, int, np.ndarray] | None],
    soundtrack: Sound | None,
) -> int:
    """Write the container; the number of frames written."""
    width, height, fps = shape
    preset, crf, mark = look
    options = {"movflags": "+faststart+use_metadata_tags"}
    count = 0
    with av.open(str(path), "w", format="mp4", options=options) as container:
        container.metadata["AIGC"] = json.dumps(aigc_label(produce_id), separators=(",", ":"))
        container.metadata["comment"] = f"AIGC: AI-generated by {PRODUCER}"
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf)}
        # Both streams exist before the first packet: the header names them.
        audio = None if soundtrack is None else _audio_stream(container, soundtrack)
        with _EncoderThread(container, stream) as encoder:
            for frame in frames:
                _check_frame(frame, width, height, count)
                encoder.put(_video_frame(frame if mark is None else apply_watermark(frame, mark)))
                count += 1
        if audio is not None and soundtrack is not None:
            # After the video, once its duration is known; the muxer interleaves by time.
            _check_duration(soundtrack, count, fps)
            _mux_sound(container, audio, soundtrack, round(count * AUDIO_RATE / fps))
    return count


def _audio_stream(container: av.container.OutputContainer, sound: Sound) -> av.AudioStream:
    channels = sound.samples.shape[0]
    stream = container.add_stream(AUDIO_CODEC, rate=AUDIO_RATE)
    stream.layout = LAYOUTS[channels]
    stream.bit_rate = AUDIO_BITRATE * channels
    return stream


def _mux_sound(
    container: av.container.OutputContainer, stream: av.AudioStream, sound: Sound, count: int
) -> None:
    """Encode ``sound`` as AAC at 48 kHz, cut or padded to ``count`` samples, and mux it."""
    layout = LAYOUTS[sound.samples.shape[0]]
    samples = fit(resample(sound, AUDIO_RATE), count)
    for start in range(0, count, AUDIO_FRAME):
        chunk = np.ascontiguousarray(samples[:, start : start + AUDIO_FRAME])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def resample(sound: Sound, rate: int) -> np.ndarray:
    """``sound``'s samples at ``rate`` (libswresample), float32, as many as its duration
    holds at that rate."""
    channels, count = sound.samples.shape
    layout = LAYOUTS[channels]
    source = np.ascontiguousarray(np.clip(sound.samples, -1.0, 1.0), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(source, format="fltp", layout=layout)
    frame.sample_rate = sound.sample_rate
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    parts = [out.to_ndarray() for out in [*resampler.resample(frame), *resampler.resample(None)]]
    resampled = np.concatenate(parts, axis=1) if parts else np.zeros((channels, 0), np.float32)
    # The resampler's filter may hand back a few samples more or fewer than the duration holds.
    return fit(resampled, round(count * rate / sound.sample_rate))


def fit(samples: np.ndarray, count: int) -> np.ndarray:
    """``samples`` (channels, n) cut, or padded with silence, to ``count`` samples."""
    fitted = np.zeros((samples.shape[0], count), np.float32)
    kept = min(count, samples.shape[1])
    fitted[:, :kept] = samples[:, :kept]
    return fitted


def _check_duration(sound: Sound, frames: int, fps: int) -> None:
    """Refuse sound that does not last as long as the video, to within one frame."""
    seconds = sound.samples.shape[1] / sound.sample_rate
    if abs(seconds - frames / fps) > 1 / fps:
        raise ValueError(
            f"the sound lasts {seconds:.3f} s but the {frames} frames at {fps} fps last "
            f"{frames / fps:.3f} s; an engine hands over sound as long as its video"
        )


QUEUE_FRAMES = 4
"""Frames that may wait for the encoder: enough to smooth out jitter, few enough for memory."""


class _EncoderThread:
    """Encodes and muxes frames handed to :meth:`put` on a thread of its own.

    Leaving the ``with`` block normally flushes the encoder; leaving it by an exception
    stops the thread without flushing (the file is abandoned) and lets the exception go on.
    An error inside the thread is raised in the caller at the next :meth:`put` or at exit.
    """

    def __init__(self, container: av.container.OutputContainer, stream: av.VideoStream) -> None:
        self.container, self.stream = container, stream
        self.queue: queue.Queue[av.VideoFrame | None] = queue.Queue(QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="conch-encoder", daemon=True)

    def __enter__(self) -> _EncoderThread:
        self.thread.start()
        return self

    def put(self, frame: av.VideoFrame) -> None:
        while True:
            self._raise_if_failed()
            try:
                self.queue.put(frame, timeout=0.1)
                return
            except queue.Full:
                continue

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None:
            self.stopping.set()
        self._put_end()
        self.thread.join()
        if kind is None:
            self._raise_if_failed()

    def _put_end(self) -> None:
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the encoder failed: {self.error}") from self.error

    def _run(self) -> None:
        try:
            while (frame := self.queue.get()) is not None:
                if self.stopping.is_set():
                    continue  # drain without encoding: the file is being abandoned
                self._mux(self.stream.encode(frame))
            if not self.stopping.is_set():
                self._mux(self.stream.encode())
        except BaseException as error:  # handed to the caller's thread
            # No draining here: the caller's put() polls and sees the error, and _put_end()
            # gives up once this thread is gone (the end marker may already be taken).
            self.error = error
            self.stopping.set()

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            self.container.mux(packet)


def _video_frame(frame: np.ndarray) -> av.VideoFrame:
    """``frame`` as a yuv420p VideoFrame (a copy: the engine may reuse its array).

    OpenCV's conversion is the BT.601 limited-range one that swscale would apply, at a
    tenth of the cost; odd sizes, which 4:2:0 cannot hold exactly, go through swscale.
    """
    height, width = frame.shape[:2]
    if width % 2 or height % 2:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    planar = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
    return av.VideoFrame.from_ndarray(planar, format="yuv420p")


def _check_frame(frame: np.ndarray, width: int, height: int, index: int) -> None:
    if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
        raise ValueError(
            f"frame {index} is {frame.shape} {frame.dtype}, expected ({height}, {width}, 3) uint8"
        )


@lru_cache(maxsize=8)
def watermark_patch(width: int, height: int) -> tuple[int, int, np.ndarray]:
    """The visible mark for a frame size: its top-left corner and an RGBA patch."""
    size = max(14, min(width, height) // 24)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(WATERMARK_TEXT)
    pad = size // 2
    patch_size = (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad)
    patch = Image.new("RGBA", patch_size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    draw.rounded_rectangle((0, 0, patch.width - 1, patch.height - 1), pad, fill=(0, 0, 0, 110))
    draw.text((pad - left, pad - top), WATERMARK_TEXT, font=font, fill=(255, 255, 255, 230))
    margin = size
    x, y = width - patch.width - margin, height - patch.height - margin
    return x, y, np.asarray(patch)


def apply_watermark(frame: np.ndarray, mark: tuple[int, int, np.ndarray]) -> np.ndarray:
    """``frame`` with the mark blended in (a copy; the engine's frame is left alone)."""
    x, y, patch = mark
    h, w = patch.shape[:2]
    out = frame.copy()
    region = out[y : y + h, x : x + w].astype(np.float32)
    alpha = patch[..., 3:4].astype(np.float32) / 255.0
    out[y : y + h, x : x + w] = (region * (1 - alpha) + patch[..., :3] * alpha).astype(np.uint8)
    return out


@dataclass(frozen=True)
class ProbedAudio:
    """What a decoder reads back from an MP4's audio track."""

    codec: str
    channels: int
    sample_rate: int
    duration: float
    """Seconds, from the track's own timing (an AAC encoder's priming samples excluded)."""
    samples: np.ndarray
    """Every decoded sample, float32 (channels, count), from the track's start."""


@dataclass(frozen=True)
class ProbedVideo:
    """What a decoder reads back from an MP4."""

    width: int
    height: int
    frames: int
    fps: float
    codec: str
    pix_fmt: str
    metadata: dict[str, str]
    duration: float
    """Seconds of video, from the stream's own timing."""
    audio: ProbedAudio | None
    """The audio track, or None when the file has none."""


def probe(path: Path) -> ProbedVideo:
    """Decode the whole file and report what it holds (used by tests and benchmarks)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return ProbedVideo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frames=frames,
            fps=float(stream.average_rate or 0),
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            metadata=dict(container.metadata),
            duration=_seconds(stream),
            audio=_probe_audio(container),
        )


def _probe_audio(container: av.container.InputContainer) -> ProbedAudio | None:
    if not container.streams.audio:
        return None
    stream = container.streams.audio[0]
    container.seek(0)
    decoded = [frame.to_ndarray() for frame in container.decode(stream)]
    return ProbedAudio(
        codec=stream.codec_context.name,
        channels=stream.codec_context.channels,
        sample_rate=stream.codec_context.sample_rate,
        duration=_seconds(stream),
        samples=np.concatenate(decoded, axis=1) if decoded else np.zeros((0, 0), np.float32),
    )


def _seconds(stream: av.stream.Stream) -> float:
    if stream.duration is None or stream.time_base is None:
        return 0.0
    return float(stream.duration * stream.time_base)


@dataclass(frozen=True)
class VideoHeader:
    """What an MP4's header declares, checked against the packets the file really holds."""

    codec: str
    width: int
    height: int
    frames: int
    fps: float
    duration: float
    audio_channels: int


class UnreadableVideo(ValueError):
    """A file that is not a whole, readable video; the message says what is wrong."""


def read_header(path: Path) -> VideoHeader:
    """The video's codec, size and frame count from its header, without decoding a frame.

    Every video packet is read (demuxed, not decoded: milliseconds for minutes of video), so
    a file cut short, whose header promises frames its body lacks, is refused.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableVideo("the file has no video track")
            stream = container.streams.video[0]
            context = stream.codec_context
            declared = stream.frames
            packets = sum(1 for packet in container.demux(stream) if packet.size)
            audio = container.streams.audio
            channels = audio[0].codec_context.channels if audio else 0
            header = VideoHeader(
                codec=context.name,
                width=context.width,
                height=context.height,
                frames=declared or packets,
                fps=float(stream.average_rate or 0),
                duration=_seconds(stream),
                audio_channels=channels,
            )
    except (av.FFmpegError, OSError) as error:
        raise UnreadableVideo(f"the file is not a readable video: {error}") from None
    if declared and packets < declared:
        raise UnreadableVideo(
            f"the file is cut short: its header declares {declared} frames, it holds {packets}"
        )
    if header.frames <= 0 or header.width <= 0 or header.height <= 0:
        raise UnreadableVideo(f"the video track is empty ({header.width}x{header.height})")
    return header
