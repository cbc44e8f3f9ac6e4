"""Which engine serves which model, what it can do, and loading it.

The API process asks :func:`modes_of` to refuse what no engine here can serve, without
loading any engine; runner processes call :func:`load_engine` once per route and keep the
engine between jobs.
"""

from __future__ import annotations

from conch.config import ModelRoute, Settings
from conch.domain.catalog import CATALOG, Mode
from conch.domain.errors import EngineCannotServe
from conch.domain.request import ImageRole, TaskSpec
from conch.engines.base import Engine
from conch.engines.relay.upstreams import RELAY, check_upstreams

MOTION = "motion"
DIFFUSION = "diffusion"
ENGINES = (MOTION, DIFFUSION, RELAY)

MOTION_MODES = frozenset({Mode.IMAGE, Mode.FIRST_LAST})
RELAY_MODES = frozenset(Mode)
"""The relay passes every mode on; an upstream that cannot serve one refuses it."""


def modes_of(route: ModelRoute) -> frozenset[Mode]:
    """The modes the engine of ``route`` can render."""
    if route.engine == MOTION:
        return MOTION_MODES
    if route.engine == DIFFUSION:
        from conch.engines.diffusion.presets import preset_modes

        return preset_modes(route.preset)
    if route.engine == RELAY:
        return RELAY_MODES
    raise ValueError(f"unknown engine {route.engine!r}; known engines: {', '.join(ENGINES)}")


def check_servable(settings: Settings, spec: TaskSpec) -> None:
    """Refuse a legal request that no engine configured here can render."""
    route = settings.route(spec.model)
    if spec.audio and not route_makes_sound(route):
        raise EngineCannotServe(_no_sound(spec.model, route), field="generate_audio")
    if route.engine == DIFFUSION:
        from conch.engines.diffusion.presets import get_preset, refusal

        has_first_frame = ImageRole.FIRST_FRAME in spec.image_sources
        refused = refusal(get_preset(route.preset), spec.mode, has_first_frame, spec.model)
        if refused is not None:
            raise refused
    elif spec.mode not in modes_of(route):
        raise EngineCannotServe(_motion_cannot_serve(spec.model, spec.mode), field="model")


def route_makes_sound(route: ModelRoute) -> bool:
    """Whether the engine of ``route`` puts sound in its videos."""
    if route.engine == DIFFUSION:
        from conch.engines.diffusion.presets import makes_sound

        return makes_sound(route.preset)
    # The upstream's model decides (and refuses what it cannot make); motion's are silent.
    return route.engine == RELAY  # the motion engine animates pictures: its videos are silent


def _no_sound(model: str, route: ModelRoute) -> str:
    engine = "the motion engine" if route.engine == MOTION else f"the {route.preset} preset"
    return (
        f"cannot be served: this server renders {model} with {engine}, whose videos are "
        "silent; leave generate_audio off, or an operator can route the model to a diffusion "
        "preset that makes sound (minimax-h3, ltx-2)"
    )


def _motion_cannot_serve(model: str, mode: Mode) -> str:
    return (
        f"{mode} needs a generative engine: this server renders {model} with the "
        "motion engine, which animates the frames it is given and cannot invent "
        f"pictures. An operator can route {model} to the diffusion engine "
        "(LTX-Video or Wan on a GPU), or to the relay engine (an upstream such as MiniMax, "
        "a reseller, a /v1/videos server or another conch), to serve it."
    )


def runner_count(settings: Settings) -> int:
    """How many runner processes to start: ``workers`` when the operator set it; otherwise
    none when a broker is set (``conch worker`` processes run the tasks), one per core, or
    one when a model runs on the diffusion engine (every runner would load its own copy of
    the weights onto the GPU)."""
    if "workers" in settings.model_fields_set:
        return settings.workers
    if settings.broker_url is not None:
        return 0
    if any(route.engine == DIFFUSION for route in settings.models.values()):
        return 1
    return settings.workers


def load_engine(route: ModelRoute, settings: Settings) -> Engine:
    """A ready engine for ``route`` (may load model weights: call once per process)."""
    if route.engine == MOTION:
        from conch.engines.motion import MotionEngine

        return MotionEngine()
    if route.engine == DIFFUSION:
        from conch.engines.diffusion import DiffusionEngine

        return DiffusionEngine(route, settings)
    if route.engine == RELAY:
        raise ValueError("the relay engine makes files, not frames: runners hold it apart")
    raise ValueError(f"unknown engine {route.engine!r}; known engines: {', '.join(ENGINES)}")


def check_routes(settings: Settings) -> None:
    """Refuse a configuration that names an unknown model, engine, preset or weights path,
    or an unknown upstream, upstream kind or unset credential variable."""
    check_upstreams(settings)
    for model, route in settings.models.items():
        if model not in CATALOG:
            raise ValueError(f"models.{model}: unknown model; known: {', '.join(CATALOG)}")
        if route.engine == DIFFUSION:
            from conch.engines.diffusion.presets import validate_route

            try:
                validate_route(route)
            except ValueError as error:
                raise ValueError(f"models.{model}: {error}") from None
        elif route.engine not in (MOTION, RELAY):
            known = ", ".join(ENGINES)
            raise ValueError(
                f"models.{model}.engine: unknown engine {route.engine!r}; known: {known}"
            )
