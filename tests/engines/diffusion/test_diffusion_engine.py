"""The diffusion engine end to end on tiny random-weight pipelines, loaded from folders
through the engine's real loading path: every mode of every preset, what reaches each
pipeline's call, frames, progress, prompts, anchors, upsampling, dtypes, and the errors an
operator or caller can meet.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import (
    DiffusionPipeline,
    LTXConditionPipeline,
    LTXLatentUpsamplePipeline,
    WanImageToVideoPipeline,
    WanPipeline,
)

from conch.config import Settings
from conch.domain.camera import CameraMove
from conch.domain.catalog import Mode
from conch.domain.errors import EngineCannotServe
from conch.engines.base import Job
from conch.engines.diffusion import PRESETS, DiffusionEngine
from conch.engines.diffusion.geometry import resize
from conch.engines.diffusion.ltx import SCHEDULER_LOGGER
from conch.engines.diffusion.progress import DENOISING_SHARE
from conch.engines.diffusion.prompting import CAMERA_PHRASES
from conch.engines.registry import load_engine
from engines.diffusion.jobs import (
    FRAMES,
    as_array,
    assert_video,
    expected_anchors,
    make_job,
    render,
)
from engines.diffusion.tiny import tiny_route

# diffusers' LTX scheduler hands a torch tensor to np.array (its issue, not ours).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CASES = [
    (name, mode)
    for name, preset in PRESETS.items()
    if not preset.makes_sound  # the presets with sound: test_diffusion_sound.py
    for mode in sorted(preset.modes)
]

RENDER_SHAPES = {
    # 64x44 on the preset's grid (32: 64x32; 16: 64x48), and 24 output frames at 24 fps
    # spanned at the model's rate in its 4k+1 frames (the tiny LTX VAE is 4x in time).
    "ltx-video": (64, 32, 25),
    "wan2.1-flf2v-14b": (64, 48, 17),
    "wan2.2-i2v-a14b": (64, 48, 17),
    "wan2.2-ti2v-5b": (64, 32, 25),
}
"""(width, height, frames) each preset's pipeline is asked for, for a 64x44, 24-frame job."""

GRID_MULTIPLES = {
    "ltx-video": 32,
    "wan2.1-flf2v-14b": 16,
    "wan2.2-i2v-a14b": 16,
    "wan2.2-ti2v-5b": 32,
    "minimax-h3": 32,
    "ltx-2": 32,
}
"""The side multiple of each preset's loaded pipeline (the tiny ones have the real layout)."""


@dataclass
class Call:
    """One call of a pipeline: which one, and its keyword arguments."""

    pipeline: Any
    kwargs: dict[str, Any]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every call of a real LTX or Wan pipeline, recorded before it runs."""
    seen: list[Call] = []
    for cls in (LTXConditionPipeline, WanPipeline, WanImageToVideoPipeline):

        def spy(self: Any, *args: Any, _original: Any = cls.__call__, **kwargs: Any) -> Any:
            assert not args, "the engine passes every argument by name"
            seen.append(Call(self, kwargs))
            return _original(self, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    return seen


@pytest.fixture
def prompts_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every prompt that reaches a pipeline's text encoder."""
    seen: list[str] = []
    for cls in (LTXConditionPipeline, WanPipeline, WanImageToVideoPipeline):

        def spy(self: Any, *args: Any, _original: Any = cls.encode_prompt, **kwargs: Any) -> Any:
            prompt = kwargs["prompt"] if "prompt" in kwargs else args[0]
            if prompt is not None:  # None: embeddings encoded before the call are passed in
                seen.append(prompt)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "encode_prompt", spy)
    return seen


def assert_conditioning(call: Call, job: Job, width: int, height: int, frames: int) -> None:
    """The pipeline got the job's anchors, at the render size, in the right places."""
    first, last = expected_anchors(job)
    kwargs = call.kwargs
    if isinstance(call.pipeline, LTXConditionPipeline):
        conditions = kwargs["conditions"] or []
        wanted = [(0, first), (frames - 1, last)]
        wanted = [(index, image) for index, image in wanted if image is not None]
        assert [c.frame_index for c in conditions] == [index for index, _ in wanted]
        for condition, (_, image) in zip(conditions, wanted, strict=True):
            assert np.array_equal(as_array(condition.image), resize(image, width, height))
        return
    if first is None:
        assert isinstance(call.pipeline, WanPipeline)
        assert "image" not in kwargs and "last_image" not in kwargs
        return
    assert isinstance(call.pipeline, WanImageToVideoPipeline)
    assert np.array_equal(as_array(kwargs["image"]), resize(first, width, height))
    if job.mode is Mode.FIRST_LAST:
        assert last is not None
        assert np.array_equal(as_array(kwargs["last_image"]), resize(last, width, height))
    else:
        assert kwargs["last_image"] is None


def assert_progress(reports: list[float], steps: int, frames: int) -> None:
    """One report per denoising step up to 0.95, then one per output frame up to 1.0."""
    assert reports[:steps] == pytest.approx(
        [DENOISING_SHARE * (step + 1) / steps for step in range(steps)]
    )
    output = reports[steps:]
    assert len(output) == frames
    assert all(DENOISING_SHARE < a < b for a, b in itertools.pairwise(output))
    assert output[-1] == 1.0


@pytest.mark.parametrize(("preset", "mode"), CASES, ids=[f"{p}-{m}" for p, m in CASES])
def test_every_mode_of_every_preset(
    engines: Callable[[str], DiffusionEngine],
    calls: list[Call],
    prompts_seen: list[str],
    preset: str,
    mode: Mode,
) -> None:
    job = make_job(mode)
    engine = engines(preset)
    frames, reports = render(engine, job)

    assert_video(frames, job)
    first, last = expected_anchors(job)
    if first is not None:
        assert np.array_equal(frames[0], first)
    if last is not None:
        assert np.array_equal(frames[-1], last)
    width, height, count = RENDER_SHAPES[preset]
    assert len(calls) == 1
    assert (calls[0].kwargs["width"], calls[0].kwargs["height"]) == (width, height)
    assert calls[0].kwargs["num_frames"] == count
    assert_conditioning(calls[0], job, width, height, count)
    assert_progress(reports, steps=2, frames=FRAMES)  # two steps: the test options
    assert len(prompts_seen) == 1
    for move in (CameraMove.PAN_LEFT, CameraMove.PEDESTAL_UP, CameraMove.PUSH_IN):
        assert CAMERA_PHRASES[move] in prompts_seen[0]
    assert prompts_seen[0].startswith("A cat runs, then sits.")


def test_the_plan_is_what_the_pipeline_is_asked_for(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    engine, job = engines("wan2.2-i2v-a14b"), make_job(Mode.FIRST_LAST)
    plan = engine.plan(job)
    render(engine, job)
    kwargs = calls[0].kwargs
    assert (plan.width, plan.height, plan.frame_count, plan.upscale) == (64, 48, 17, 1)
    assert (kwargs["width"], kwargs["height"], kwargs["num_frames"]) == (64, 48, 17)
    assert kwargs["prompt"] == plan.prompt


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_loaded_pipeline_has_its_presets_grid(
    engines: Callable[[str], DiffusionEngine], preset: str
) -> None:
    assert engines(preset).renderer.grid.multiple == GRID_MULTIPLES[preset]


def test_progress_reaches_one_only_after_the_last_frame_is_taken(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    reports: list[float] = []
    taken = 0
    for _ in engines("wan2.2-i2v-a14b").generate(make_job(Mode.IMAGE), reports.append):
        taken += 1
        assert max(reports) < 1.0  # a frame still in the consumer's hands is not done
        assert len([r for r in reports if r > DENOISING_SHARE]) == taken - 1
    assert taken == FRAMES and reports[-1] == 1.0


def test_without_the_optimizer_the_pipeline_gets_the_prompt_verbatim(
    engines: Callable[[str], DiffusionEngine], prompts_seen: list[str]
) -> None:
    job = make_job(Mode.TEXT, prompt_optimizer=False)
    render(engines("ltx-video"), job)
    assert prompts_seen == ["A cat runs, then sits"]


def test_the_same_seed_renders_the_same_video(engines: Callable[[str], DiffusionEngine]) -> None:
    engine = engines("wan2.2-ti2v-5b")
    transformer = engine.renderer.text_pipeline.transformer  # type: ignore[attr-defined]
    first, _ = render(engine, make_job(Mode.TEXT))
    again, _ = render(engine, make_job(Mode.TEXT))
    other, _ = render(engine, make_job(Mode.TEXT, seed=8))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert engine.renderer.text_pipeline.transformer is transformer  # type: ignore[attr-defined]


def test_ti2v_image_pipeline_shares_the_text_pipelines_modules(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    renderer: Any = engines("wan2.2-ti2v-5b").renderer
    text, image = renderer.text_pipeline, renderer.image_pipeline
    assert image is not text
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(image, name) is getattr(text, name), name


def test_wan_frees_the_offloaded_modules_after_either_call(
    engines: Callable[[str], DiffusionEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    freed: list[Any] = []
    original = DiffusionPipeline.maybe_free_model_hooks

    def spy(self: Any) -> None:
        freed.append(self)
        original(self)

    monkeypatch.setattr(DiffusionPipeline, "maybe_free_model_hooks", spy)
    engine = engines("wan2.2-ti2v-5b")
    text_pipeline = engine.renderer.text_pipeline  # type: ignore[attr-defined]
    for mode in (Mode.TEXT, Mode.IMAGE):
        freed.clear()
        render(engine, make_job(mode))
        # The pipeline that holds the offload hooks frees them, whichever pipeline ran.
        assert freed[-1] is text_pipeline, mode


def test_a_six_second_clip_from_a_16_fps_model_is_retimed_to_24_fps(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    job = make_job(Mode.FIRST_LAST, frame_count=144)  # Wan renders 81 frames for 6 s
    frames, _ = render(engines("wan2.2-i2v-a14b"), job)
    assert calls[0].kwargs["num_frames"] == 81
    assert_video(frames, job)
    assert np.array_equal(frames[0], job.first_frame)
    assert np.array_equal(frames[-1], job.last_frame)


def test_ltx_can_end_on_a_last_frame_alone(
    engines: Callable[[str], DiffusionEngine], calls: list[Call]
) -> None:
    job = make_job(Mode.FIRST_LAST, first_frame=None)
    frames, _ = render(engines("ltx-video"), job)
    assert_video(frames, job)
    assert np.array_equal(frames[-1], job.last_frame)
    conditions = calls[0].kwargs["conditions"]
    assert [condition.frame_index for condition in conditions] == [25 - 1]


def test_wan_refuses_a_last_frame_without_a_first(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    job = make_job(Mode.FIRST_LAST, first_frame=None)
    with pytest.raises(EngineCannotServe, match="starts every first-last-frame video") as refused:
        list(engines("wan2.2-i2v-a14b").generate(job, lambda _: None))
    assert refused.value.field == "first_frame_image"


def test_a_mode_the_preset_lacks_is_refused(engines: Callable[[str], DiffusionEngine]) -> None:
    job = make_job(Mode.FIRST_LAST)
    with pytest.raises(EngineCannotServe, match="not offered by the diffusion engine preset"):
        list(engines("wan2.2-ti2v-5b").generate(job, lambda _: None))


def test_a_progress_callback_that_raises_stops_the_render(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    reports: list[float] = []

    def taken_away(fraction: float) -> None:
        reports.append(fraction)
        raise RuntimeError("the task was taken away")

    with pytest.raises(RuntimeError, match="taken away"):
        list(engines("ltx-video").generate(make_job(Mode.TEXT), taken_away))
    assert len(reports) == 1


def test_ltx_renders_without_the_schedulers_timesteps_warning(
    engines: Callable[[str], DiffusionEngine],
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    library = logging.getLogger("diffusers")  # diffusers' loggers do not reach the root
    library.addHandler(handler)
    try:
        render(engines("ltx-video"), make_job(Mode.IMAGE))
        logging.getLogger(SCHEDULER_LOGGER).warning("another scheduler warning")
    finally:
        library.removeHandler(handler)
    messages = [record.getMessage() for record in records]
    assert messages == ["another scheduler warning"]  # only that one warning is filtered


@pytest.fixture(scope="module")
def upscaling_engine(tiny_weights: dict[str, Path]) -> Iterator[DiffusionEngine]:
    """LTX with its upsampler, the distilled schedules, and a native area of 64x32."""
    route = tiny_route("ltx-video", tiny_weights["ltx-video"], max_area=64 * 32)
    del route.options["steps"]
    engine = DiffusionEngine(route, Settings())
    yield engine
    engine.close()


def test_ltx_renders_large_frames_at_half_size_then_upsamples(
    upscaling_engine: DiffusionEngine, calls: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    upsampled: list[bool] = []
    upsample = LTXLatentUpsamplePipeline.__call__
    monkeypatch.setattr(
        LTXLatentUpsamplePipeline,
        "__call__",
        lambda self, *a, **k: upsampled.append(True) or upsample(self, *a, **k),
    )
    job = make_job(Mode.FIRST_LAST, width=128, height=72)
    frames, reports = render(upscaling_engine, job)

    sizes = [(call.kwargs["width"], call.kwargs["height"]) for call in calls]
    assert sizes == [(64, 32), (128, 64)] and upsampled == [True]
    for call in calls:  # both stages get the full-size first and last frames, in place
        assert_conditioning(call, job, 128, 64, frames=25)
    assert "timesteps" in calls[0].kwargs and "latents" in calls[1].kwargs
    assert_video(frames, job)
    assert np.array_equal(frames[0], job.first_frame)
    assert np.array_equal(frames[-1], job.last_frame)
    # The distilled schedule: 8 steps at half size, then 4 refining at full size.
    assert_progress(reports, steps=8 + 4, frames=job.frame_count)


def test_without_the_upsampler_large_frames_are_rendered_native_and_resized(
    load_engine: Callable[..., DiffusionEngine], calls: list[Call]
) -> None:
    engine = load_engine("ltx-video", max_area=64 * 32, upsampler=False)
    assert engine.renderer.upscale == 1
    job = make_job(Mode.TEXT, width=128, height=72)
    frames, _ = render(engine, job)
    assert [(call.kwargs["width"], call.kwargs["height"]) for call in calls] == [(64, 32)]
    assert_video(frames, job)


def test_the_upsampler_loads_from_its_published_layout(
    load_engine: Callable[..., DiffusionEngine], tiny_upsampler: Path, calls: list[Call]
) -> None:
    assert (tiny_upsampler / "model_index.json").is_file()
    assert (tiny_upsampler / "latent_upsampler").is_dir()
    engine = load_engine("ltx-video", max_area=64 * 32, upsampler=str(tiny_upsampler))
    assert engine.renderer.upscale == 2
    job = make_job(Mode.IMAGE, width=128, height=72)
    frames, _ = render(engine, job)
    assert [(call.kwargs["width"], call.kwargs["height"]) for call in calls] == [
        (64, 32),
        (128, 64),
    ]
    assert_video(frames, job)


def test_the_upsampler_can_be_its_model_folder(
    load_engine: Callable[..., DiffusionEngine], tiny_upsampler: Path
) -> None:
    engine = load_engine("ltx-video", upsampler=str(tiny_upsampler / "latent_upsampler"))
    assert engine.renderer.upscale == 2


def test_dtype_comes_from_the_route_options(load_engine: Callable[..., DiffusionEngine]) -> None:
    engine = load_engine("wan2.2-i2v-a14b", dtype="bfloat16")
    pipeline: Any = engine.renderer.image_pipeline  # type: ignore[attr-defined]
    assert pipeline.transformer.dtype == torch.bfloat16
    assert pipeline.text_encoder.dtype == torch.bfloat16
    assert pipeline.vae.dtype == torch.float32  # Wan's VAE always decodes in float32
    job = make_job(Mode.IMAGE)
    frames, _ = render(engine, job)
    assert_video(frames, job)


def test_flf2v_runs_its_clip_image_encoder_in_float32(
    load_engine: Callable[..., DiffusionEngine],
) -> None:
    engine = load_engine("wan2.1-flf2v-14b", dtype="bfloat16")
    pipeline: Any = engine.renderer.image_pipeline  # type: ignore[attr-defined]
    assert pipeline.transformer.dtype == torch.bfloat16
    assert pipeline.image_encoder.dtype == torch.float32
    assert pipeline.vae.dtype == torch.float32
    job = make_job(Mode.FIRST_LAST)
    frames, _ = render(engine, job)
    assert_video(frames, job)


@pytest.mark.parametrize("preset", ["ltx-video", "wan2.2-ti2v-5b"])
def test_with_float16_the_text_encoder_is_not_float16(
    load_engine: Callable[..., DiffusionEngine], preset: str
) -> None:
    engine = load_engine(preset, dtype="float16")
    renderer: Any = engine.renderer
    pipeline = renderer.pipeline if preset == "ltx-video" else renderer.text_pipeline
    assert pipeline.transformer.dtype == torch.float16
    assert pipeline.text_encoder.dtype == torch.float32  # bfloat16 on a GPU that has it
    job = make_job(Mode.TEXT)
    frames, _ = render(engine, job)
    assert_video(frames, job)


def test_a_missing_weights_path_is_a_clear_error(tmp_path: Path) -> None:
    route = tiny_route("ltx-video", tmp_path / "LTX-Video-0.9.7-distilled")
    with pytest.raises(ValueError, match=r"preset 'ltx-video': weights path .* does not exist"):
        DiffusionEngine(route, Settings())


def test_the_registry_loads_the_engine_for_a_route(tiny_weights: dict[str, Path]) -> None:
    engine = load_engine(tiny_route("wan2.2-ti2v-5b", tiny_weights["wan2.2-ti2v-5b"]), Settings())
    try:
        assert isinstance(engine, DiffusionEngine) and engine.name == "diffusion"
    finally:
        engine.close()
