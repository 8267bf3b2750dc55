# Two commands for a fresh machine: `make run` and `make test` (see README.md).
# The venv is rebuilt only when a requirements file changes, so second runs are fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
export HOST PORT

.PHONY: venv run test test-fast check fmt cv container-smoke clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# pip 23 cannot resolve trafilatura's lxml extras: upgrade pip inside the venv first.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	exec $(BIN)/python -m service serve

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

check: $(STAMP)
	$(BIN)/ruff check service pagecleaner_client tests bench deploy scripts
	$(BIN)/ruff format --check service pagecleaner_client tests bench deploy scripts
	$(BIN)/mypy --explicit-package-bases service pagecleaner_client bench tests
	# scripts/ is no package (its scripts import each other as top-level modules): checked on its own.
	$(BIN)/mypy scripts/*.py

fmt: $(STAMP)
	$(BIN)/ruff format service pagecleaner_client tests bench deploy scripts
	$(BIN)/ruff check --fix service pagecleaner_client tests bench deploy scripts

# Issue 22's validation protocol: grouped cross-validation by site, HTML mode (~5 min) then the
# plain-text mode (~25 min), on the development sets in ../shared/bench.
cv: $(STAMP)
	$(BIN)/python -m bench.crossval
	$(BIN)/python scripts/train_text_model.py ../shared/bench --cv

# Build the container image with podman (no Docker engine here) and smoke-test it.
container-smoke:
	scripts/container_smoke.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
