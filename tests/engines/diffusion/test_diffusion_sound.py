"""MiniMax-H3 and LTX-2, the presets with sound, on tiny random-weight pipelines loaded from
folders through the engine's real loading path: every mode, what reaches each pipeline's
call, the soundtrack handed over with the frames, and the memory options.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import LTX2ConditionPipeline
from diffusers.hooks.group_offloading import _get_group_onload_device
from diffusers.modular_pipelines import MiniMaxH3ModularPipeline

from conch.config import Settings
from conch.domain.catalog import Mode
from conch.engines.base import Footage, Soundtrack, soundtrack_of
from conch.engines.diffusion import PRESETS, DiffusionEngine, memory
from conch.engines.diffusion.geometry import resize
from conch.engines.diffusion.minimax_h3 import KeyframeProcessor
from conch.engines.diffusion.progress import DENOISING_SHARE
from conch.engines.diffusion.prompting import CAMERA_PHRASES
from engines.diffusion.jobs import as_array, assert_video, expected_anchors, make_job
from engines.diffusion.tiny import SOUND_RATE, tiny_route

H3, LTX2 = "minimax-h3", "ltx-2"
CASES = [(name, mode) for name in (H3, LTX2) for mode in sorted(PRESETS[name].modes)]

RENDER_SHAPES = {
    # A 64x44, 24-frame (1 s) job: on the 32-pixel grid, 64x32; H3 renders 5 s at least
    # (124 frames, 17k+5), LTX-2 the 8k+1 nearest 24 frames.
    H3: (64, 32, 124),
    LTX2: (64, 32, 25),
}


@dataclass
class Call:
    """One call of a pipeline: which one, and its keyword arguments."""

    pipeline: Any
    kwargs: dict[str, Any]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every call of a MiniMax-H3 or LTX-2 pipeline, recorded before it runs."""
    seen: list[Call] = []
    for cls in (MiniMaxH3ModularPipeline, LTX2ConditionPipeline):

        def spy(self: Any, *args: Any, _original: Any = cls.__call__, **kwargs: Any) -> Any:
            assert not args, "the engine passes every argument by name"
            seen.append(Call(self, kwargs))
            return _original(self, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    return seen


def render_with_sound(
    engine: DiffusionEngine, job: Any
) -> tuple[list[np.ndarray], Soundtrack, list[float]]:
    reports: list[float] = []
    footage = engine.generate(job, reports.append)
    assert isinstance(footage, Footage)
    frames = list(footage)
    sound = soundtrack_of(footage)
    assert sound is not None, "a preset with sound hands it over with its frames"
    return frames, sound, reports


def assert_sound_of(sound: Soundtrack, job: Any) -> None:
    """Stereo, and exactly as long as the video, to the sample."""
    assert sound.channels == 2 and sound.samples.dtype == np.float32
    assert sound.samples.shape[1] == round(job.frame_count * sound.sample_rate / job.fps)
    assert np.isfinite(sound.samples).all() and np.abs(sound.samples).max() > 0


def keyframes_given(call: Call) -> dict[str, np.ndarray]:
    """The keyframes a call carried: H3's image/last_image, LTX-2's conditions by index."""
    if isinstance(call.pipeline, LTX2ConditionPipeline):
        conditions = call.kwargs["conditions"] or []
        names = {0: "image", -1: "last_image"}
        return {names[c.index]: as_array(c.frames) for c in conditions}
    return {
        key: as_array(call.kwargs[key]) for key in ("image", "last_image") if key in call.kwargs
    }


@pytest.mark.parametrize(("preset", "mode"), CASES, ids=[f"{p}-{m}" for p, m in CASES])
def test_every_mode_renders_its_frames_and_their_sound(
    engines: Callable[[str], DiffusionEngine], calls: list[Call], preset: str, mode: Mode
) -> None:
    job = make_job(mode)
    frames, sound, reports = render_with_sound(engines(preset), job)

    assert_video(frames, job)
    assert_sound_of(sound, job)
    first, last = expected_anchors(job)
    if first is not None:
        assert np.array_equal(frames[0], first)
    if last is not None:
        assert np.array_equal(frames[-1], last)
    width, height, count = RENDER_SHAPES[preset]
    kwargs = calls[0].kwargs
    assert len(calls) == 1
    assert (kwargs["width"], kwargs["height"], kwargs["num_frames"]) == (width, height, count)
    wanted = {"image": first, "last_image": last}
    given = keyframes_given(calls[0])
    assert set(given) == {name for name, image in wanted.items() if image is not None}
    for name, image in given.items():
        assert np.array_equal(image, resize(wanted[name], width, height))  # type: ignore[arg-type]
    assert reports[:2] == pytest.approx([DENOISING_SHARE / 2, DENOISING_SHARE])  # two steps
    assert reports[-1] == 1.0 and len(reports) == 2 + job.frame_count


def test_h3_is_asked_for_its_canvas_and_frames_with_no_guidance(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    job = make_job(Mode.TEXT, frame_count=144)  # 6 s
    frames, sound, _ = render_with_sound(engines(H3), job)
    kwargs = calls[0].kwargs
    assert kwargs["num_frames"] == 141  # 17k+5 nearest 6 s: 5.875 s, retimed over 6 s
    # Two steps, two forward passes: the schedule's last point, t = 0, takes none.
    assert kwargs["num_inference_steps"] == 3
    assert not {"negative_prompt", "guidance_scale"} & set(kwargs)
    assert kwargs["prompt"].startswith("A cat runs, then sits. The camera")
    assert CAMERA_PHRASES[next(iter(job.camera_plan.segments[0].moves))] in kwargs["prompt"]
    assert "real footage" not in kwargs["prompt"]  # no closing sentence for MiniMax's model
    assert_video(frames, job)
    # 141 frames' sound played over 144: 140/143 of its 8 kHz, exactly 6 s of it.
    assert sound.sample_rate == round(SOUND_RATE * 140 / 143)
    assert sound.duration == pytest.approx(6.0, abs=1 / sound.sample_rate)


def test_h3_can_end_on_a_last_frame_alone(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    job = make_job(Mode.FIRST_LAST, first_frame=None)
    frames, _, _ = render_with_sound(engines(H3), job)
    assert set(keyframes_given(calls[0])) == {"last_image"}
    assert np.array_equal(frames[-1], job.last_frame)


def test_h3_loads_only_its_text_and_keyframe_transformer(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    pipeline: Any = engines(H3).renderer.pipeline  # type: ignore[attr-defined]
    assert pipeline.transformer is not None
    assert pipeline.transformer_ref is None  # ref2va's partition: another 33B model


def test_h3_reads_keyframes_without_torchvision(engines: Callable[[str], DiffusionEngine]) -> None:
    # This machine's transformers cannot build Qwen3VLProcessor (no torchvision): the stand-in
    # carries the real image processor, loaded from the processor folder.
    pipeline: Any = engines(H3).renderer.pipeline  # type: ignore[attr-defined]
    processor = pipeline.processor
    assert isinstance(processor, KeyframeProcessor)
    assert processor.image_processor.patch_size == 4
    tokens = pipeline.tokenizer("<|image_pad|>a<|video_pad|>", add_special_tokens=False)
    assert processor.create_mm_token_type_ids([tokens["input_ids"]]) == [[1, 0, 2]]


def test_ltx2_is_told_its_frame_rate_and_gets_the_prompt_encoded(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    job = make_job(Mode.FIRST_LAST, frame_count=72)  # 3 s
    _, sound, _ = render_with_sound(engines(LTX2), job)
    kwargs = calls[0].kwargs
    assert (kwargs["num_frames"], kwargs["frame_rate"]) == (73, 24.0)
    assert kwargs["guidance_scale"] == 3.0 and kwargs["num_inference_steps"] == 2
    assert "prompt" not in kwargs and kwargs["prompt_embeds"] is not None
    assert kwargs["negative_prompt_embeds"] is not None  # guidance 3: a negative prompt too
    assert [c.index for c in kwargs["conditions"]] == [0, -1]
    # 73 frames' sound played over 72 frames: 72/71 of its own rate, exactly 3 s of it.
    assert sound.sample_rate == round(SOUND_RATE * 72 / 71)
    assert sound.duration == pytest.approx(3.0, abs=1 / sound.sample_rate)


@pytest.mark.parametrize("preset", [H3, LTX2])
def test_the_same_seed_makes_the_same_sound(
    engines: Callable[[str], DiffusionEngine], preset: str
) -> None:
    engine = engines(preset)
    _, first, _ = render_with_sound(engine, make_job(Mode.TEXT))
    _, again, _ = render_with_sound(engine, make_job(Mode.TEXT))
    _, other, _ = render_with_sound(engine, make_job(Mode.TEXT, seed=8))
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples, other.samples)


def test_fp8_stores_the_big_models_in_float8_and_they_still_render(
    load_engine: Callable[..., DiffusionEngine],
) -> None:
    engine = load_engine(LTX2, fp8="all")
    pipeline: Any = engine.renderer.pipeline  # type: ignore[attr-defined]
    for model in (pipeline.transformer, pipeline.text_encoder):
        dtypes = {parameter.dtype for parameter in model.parameters()}
        assert dtypes == {torch.float8_e4m3fn, torch.float32}  # norms kept
    assert {p.dtype for p in pipeline.vocoder.parameters()} == {torch.float32}
    job = make_job(Mode.IMAGE)
    frames, sound, _ = render_with_sound(engine, job)
    assert_video(frames, job)
    assert_sound_of(sound, job)


def test_fp8_on_h3_leaves_its_text_encoder_alone(
    load_engine: Callable[..., DiffusionEngine],
) -> None:
    engine = load_engine(H3, fp8=True)
    pipeline: Any = engine.renderer.pipeline  # type: ignore[attr-defined]
    assert torch.float8_e4m3fn in {p.dtype for p in pipeline.transformer.parameters()}
    assert torch.float8_e4m3fn not in {p.dtype for p in pipeline.text_encoder.parameters()}
    job = make_job(Mode.TEXT)
    frames, sound, _ = render_with_sound(engine, job)
    assert_video(frames, job)
    assert_sound_of(sound, job)


def test_the_attention_backend_is_set_on_the_transformer(
    load_engine: Callable[..., DiffusionEngine],
) -> None:
    engine = load_engine(H3, attention_backend="_native_math")
    transformer = engine.renderer.pipeline.transformer  # type: ignore[attr-defined]
    backends = {
        str(module.processor._attention_backend)
        for module in transformer.modules()
        if hasattr(module, "processor")
    }
    assert backends == {"AttentionBackendName._NATIVE_MATH"}
    job = make_job(Mode.TEXT)
    assert_video(render_with_sound(engine, job)[0], job)


def test_h3_keeps_its_vae_tiled_unless_told(load_engine: Callable[..., DiffusionEngine]) -> None:
    assert load_engine(H3).renderer.pipeline.vae.use_tiling  # type: ignore[attr-defined]
    untiled = load_engine(H3, vae_tiling=False)
    assert not untiled.renderer.pipeline.vae.use_tiling  # type: ignore[attr-defined]


@pytest.mark.parametrize("preset", [H3, LTX2])
def test_a_text_encoder_offloaded_layer_by_layer_still_reads_the_prompt(
    load_engine: Callable[..., DiffusionEngine], preset: str
) -> None:
    # On a GPU its layers visit the GPU in turn; here the CPU stands in for both devices, so
    # the hooks run (H3 calls a part of the encoder directly) and nothing else changes.
    engine = load_engine(preset)
    job = make_job(Mode.IMAGE)
    _, before, _ = render_with_sound(engine, job)
    pipeline: Any = engine.renderer.pipeline  # type: ignore[attr-defined]
    memory.offload_text_encoder(pipeline, torch.device("cpu"))
    assert _get_group_onload_device(pipeline.text_encoder) == torch.device("cpu")
    frames, after, _ = render_with_sound(engine, job)
    assert_video(frames, job)
    assert np.array_equal(before.samples, after.samples)  # the same prompt, the same video


def test_offloading_is_ignored_on_the_cpu(
    load_engine: Callable[..., DiffusionEngine], caplog: pytest.LogCaptureFixture
) -> None:
    engine = load_engine(LTX2, text_encoder_offload=True)
    assert "CPU offload is set but the device is the CPU" in caplog.text
    pipeline: Any = engine.renderer.pipeline  # type: ignore[attr-defined]
    with pytest.raises(ValueError):  # nothing to move on a CPU: no offload hooks
        _get_group_onload_device(pipeline.text_encoder)
    job = make_job(Mode.TEXT)
    assert_sound_of(render_with_sound(engine, job)[1], job)


def published_copy(folder: Path, to: Path) -> Path:
    """``folder`` as a download of the published repository looks: its index names the hub
    repository, not the folder, for every model."""
    copy = shutil.copytree(folder, to)
    index_path = copy / "modular_model_index.json"
    index = json.loads(index_path.read_text())
    for entry in index.values():
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], dict):
            entry[2]["pretrained_model_name_or_path"] = PRESETS[H3].cache_repo
    index_path.write_text(json.dumps(index))
    return copy


def test_h3_loads_a_downloaded_copy_from_the_folder_and_names_what_it_lacks(
    tiny_weights: dict[str, Path], tmp_path: Path
) -> None:
    folder = published_copy(tiny_weights[H3], tmp_path / "h3")
    engine = DiffusionEngine(tiny_route(H3, folder), Settings())
    assert engine.renderer.pipeline.transformer is not None  # type: ignore[attr-defined]
    engine.close()
    shutil.rmtree(folder / "audio_vae")  # not here, and never downloaded
    with pytest.raises(ValueError, match=r"MiniMax-H3 at .*h3: could not load audio_vae"):
        DiffusionEngine(tiny_route(H3, folder), Settings())
