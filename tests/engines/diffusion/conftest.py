"""Fixtures for the diffusion engine: tiny pipelines saved once per session, and engines
loaded from those folders through the engine's real loading path (kept for the session,
or for one test), every one closed when done.
"""

from __future__ import annotations

import os

# Before anything imports huggingface_hub: these tests never touch the hub.
os.environ["HF_HUB_OFFLINE"] = "1"

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conch.config import Settings

if TYPE_CHECKING:
    from conch.engines.diffusion import DiffusionEngine


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    """The machine's cores are shared: tiny models gain nothing from threads."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each preset's tiny pipeline, saved once to its own folder."""
    from engines.diffusion.tiny import BUILDERS, save_tiny

    root = tmp_path_factory.mktemp("diffusion-weights")
    return {preset: save_tiny(preset, root / preset) for preset in BUILDERS}


@pytest.fixture(scope="session")
def tiny_upsampler(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LTX's tiny latent upsampler in its published layout, saved once."""
    from engines.diffusion.tiny import save_tiny_upsampler

    return save_tiny_upsampler(tmp_path_factory.mktemp("upsampler") / "ltxv-spatial-upscaler")


@pytest.fixture(scope="session")
def engines(tiny_weights: dict[str, Path]) -> Iterator[Callable[[str], DiffusionEngine]]:
    """A loaded engine per preset, built on first use and kept (as a runner keeps it)."""
    from conch.engines.diffusion import DiffusionEngine
    from engines.diffusion.tiny import tiny_route

    loaded: dict[str, DiffusionEngine] = {}

    def engine_for(preset: str) -> DiffusionEngine:
        if preset not in loaded:
            loaded[preset] = DiffusionEngine(tiny_route(preset, tiny_weights[preset]), Settings())
        return loaded[preset]

    yield engine_for
    for engine in loaded.values():
        engine.close()


@pytest.fixture
def load_engine(tiny_weights: dict[str, Path]) -> Iterator[Callable[..., DiffusionEngine]]:
    """Loads an engine for one test (``load_engine(preset, **options)``), closed after it."""
    from conch.engines.diffusion import DiffusionEngine
    from engines.diffusion.tiny import tiny_route

    loaded: list[DiffusionEngine] = []

    def load(preset: str, **options: object) -> DiffusionEngine:
        route = tiny_route(preset, tiny_weights[preset], **options)
        loaded.append(DiffusionEngine(route, Settings()))
        return loaded[-1]

    yield load
    for engine in loaded:
        engine.close()
