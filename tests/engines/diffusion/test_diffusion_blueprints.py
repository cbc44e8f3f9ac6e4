"""MiniMax-H3 and LTX-2 at full size, built from configs on the meta device (nothing is
allocated or downloaded): their sizes, the memory arithmetic, and the GPU benchmark's dry
run, which chooses what fits a GPU.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conch.engines.diffusion.blueprints import (
    SETUPS,
    build,
    parameter_counts,
    weight_bytes,
)
from conch.engines.diffusion.geometry import Grid
from conch.engines.diffusion.ltx2 import grid_of as ltx2_grid
from conch.engines.diffusion.minimax_h3 import grid_of as h3_grid

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "diffusion_gpu.py"
BILLION = 1e9


def test_the_full_size_models_have_their_published_sizes() -> None:
    h3 = parameter_counts("minimax-h3")
    assert h3["transformer"] / BILLION == pytest.approx(33.1, abs=0.1)  # "a 33B transformer"
    assert h3["text_encoder"] / BILLION == pytest.approx(33.4, abs=0.1)  # Qwen3-VL-32B
    ltx2 = parameter_counts("ltx-2")
    assert ltx2["transformer"] / BILLION == pytest.approx(18.9, abs=0.1)  # LTX-2 19B
    assert ltx2["text_encoder"] / BILLION == pytest.approx(12.2, abs=0.1)  # Gemma 3 12B


def test_the_full_size_pipelines_have_the_real_geometry() -> None:
    assert h3_grid(build("minimax-h3", "meta", torch.bfloat16)) == Grid(32, 17, 5)
    assert ltx2_grid(build("ltx-2", "meta", torch.bfloat16)) == Grid(32, 8, 1)


def test_fp8_halves_what_it_stores_and_an_offloaded_text_encoder_leaves_the_gpu() -> None:
    bf16, fp8, both = (weight_bytes("ltx-2", scope) for scope in (None, "transformer", "all"))
    assert fp8["transformer"] == pytest.approx(bf16["transformer"] / 2, rel=0.02)
    assert fp8["text_encoder"] == bf16["text_encoder"]
    assert both["text_encoder"] < 0.6 * bf16["text_encoder"]  # its embeddings stay bf16
    assert bf16["vocoder"] == 4 * parameter_counts("ltx-2")["vocoder"]  # float32, always
    resident, offloaded, lean = (setup.resident_bytes("ltx-2") for setup in SETUPS)
    assert resident == sum(bf16.values())
    assert offloaded == resident - bf16["text_encoder"]
    assert lean == offloaded - (bf16["transformer"] - fp8["transformer"])


def run_benchmark(*arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return done.stdout


def test_the_benchmarks_dry_run_chooses_what_fits_a_gpu() -> None:
    out = run_benchmark("--random-weights", "--dry-run", "--gpu-gib", "60")
    assert "minimax-h3: 69.2B parameters" in out
    assert "  768P: renders 1344x768x141" in out  # H3's canvas, 6 s in its 17k+5 frames
    assert "  768P: renders 1376x768x145" in out  # LTX-2's
    # H3's weights: 130 GiB in bf16, 67 GiB with its text encoder offloaded, 37 with fp8.
    assert "skipped minimax-h3: setup 'bf16': needs 142.8 GiB of 60.0 GiB" in out
    assert "skipped minimax-h3: setup 'bf16, text encoder offloaded': needs 80.7 GiB" in out
    assert "would run: fp8 transformer, text encoder offloaded, at 768P" in out
    assert "skipped ltx-2: setup 'bf16': needs 76.0 GiB of 60.0 GiB" in out
    assert "would run: bf16, text encoder offloaded, at 768P" in out  # LTX-2: 53.3 GiB


def test_without_a_gpu_the_benchmark_says_so_and_succeeds() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = run_benchmark("--random-weights")
    assert "no CUDA GPU on this machine" in out
