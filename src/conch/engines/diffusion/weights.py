"""Where a preset's weights come from: the route's local folder, else the operator's own
Hugging Face model cache. Never the network: conch does not download weights by itself.

A route with ``weights = "/models/LTX-Video-0.9.7-distilled"`` loads that diffusers folder
(the one holding ``model_index.json``). A route without ``weights`` loads the preset's
repository from the model cache (``HF_HOME`` / ``HF_HUB_CACHE``), which the operator fills
beforehand, e.g. with ``huggingface-cli download Lightricks/LTX-Video-0.9.7-distilled``.

Import-light: no torch; ``huggingface_hub`` only when the cache is consulted.
"""

from __future__ import annotations

from pathlib import Path

PIPELINE_INDEX = "model_index.json"
"""The file that marks a diffusers pipeline folder."""

MODULAR_INDEX = "modular_model_index.json"
"""The file that marks a diffusers modular pipeline folder (MiniMax-H3's)."""

UPSAMPLER_FOLDER = "latent_upsampler"
"""The sub-folder of an LTX upsampler pipeline (or of the LTX weights) holding the model."""


def check_weights(
    weights: Path | None, cache_repo: str, preset: str, index: str = PIPELINE_INDEX
) -> None:
    """Raise ValueError unless the weights can be loaded without downloading anything.

    ``index`` is the file that marks the preset's pipeline folder.
    """
    if weights is not None:
        check_pipeline_folder(weights.expanduser(), preset, index)
    elif not in_model_cache(cache_repo, index):
        raise ValueError(
            f"diffusion preset {preset!r}: no weights path is configured and {cache_repo} is "
            "not in the local model cache; set `weights` to the model's diffusers folder, or "
            f"download it into the cache first (huggingface-cli download {cache_repo})"
        )


def check_pipeline_folder(folder: Path, preset: str, index: str = PIPELINE_INDEX) -> None:
    """Raise ValueError unless ``folder`` is a diffusers pipeline folder (marked by ``index``)."""
    if not folder.exists():
        raise ValueError(f"diffusion preset {preset!r}: weights path {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"diffusion preset {preset!r}: weights path {folder} is not a directory")
    if not (folder / index).is_file():
        raise ValueError(
            f"diffusion preset {preset!r}: weights path {folder} is not a diffusers pipeline "
            f"folder (it has no {index})"
        )


def in_model_cache(repo: str, index: str = PIPELINE_INDEX) -> bool:
    """Whether the cache holds ``repo``'s pipeline index (False without huggingface_hub)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # the diffusion extra is not installed in this process
        return False
    return isinstance(try_to_load_from_cache(repo, index), str)


def pipeline_source(weights: Path | None, cache_repo: str) -> str:
    """What ``from_pretrained`` should load: the local folder, else the cached repository."""
    return str(weights.expanduser()) if weights is not None else cache_repo


def upsampler_source(
    option: Path | None, weights: Path | None, cache_repo: str | None
) -> tuple[str, str | None] | None:
    """Where the LTX latent upsampler model is, as (folder or repo, subfolder), or None.

    In order: the ``upsampler`` option; a ``latent_upsampler`` folder inside the weights;
    the preset's upsampler repository in the model cache (only for a route without weights).
    """
    if option is not None:
        nested = option / UPSAMPLER_FOLDER
        return (str(option), UPSAMPLER_FOLDER) if nested.is_dir() else (str(option), None)
    if weights is not None:
        folder = weights.expanduser()
        return (str(folder), UPSAMPLER_FOLDER) if (folder / UPSAMPLER_FOLDER).is_dir() else None
    if cache_repo is not None and in_model_cache(cache_repo):
        return cache_repo, UPSAMPLER_FOLDER
    return None
