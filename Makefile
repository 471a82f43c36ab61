# Every target sets up what it needs: `make demo` and `make test` work on a fresh clone.
# The environment is $(VENV) (default .venv; CI passes a fresh one). It is (re)installed only when
# pyproject.toml is newer than its stamp file, so a second run starts at once.
.PHONY: demo test install lint docs bench build clean

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

demo: $(VENV)/.installed-testing
	$(BIN)/python examples/weather.py

test: $(VENV)/.installed-dev
	@# CI must have the servers; elsewhere their tests skip with a reason when they cannot start.
	@bash .ci/services.sh || { [ -z "$$CI" ] || exit 1; echo "make test: no Postgres/Redis; their tests will skip"; }
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed-dev

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

build: $(VENV)/.installed-dev
	rm -rf dist
	$(BIN)/python -m build
	$(BIN)/twine check --strict dist/*

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_loop.py
	$(BIN)/python benchmarks/bench_schema.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_sessions.py
	$(BIN)/python benchmarks/bench_tokens.py
	$(BIN)/python benchmarks/bench_finetune.py --examples 20000
	$(BIN)/python benchmarks/bench_embeddings.py
	$(BIN)/python benchmarks/bench_vectors.py
	$(BIN)/python benchmarks/bench_durable.py

clean:
	rm -rf $(VENV) dist site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# One stamp per set of extras: .installed-testing (the demo), .installed-dev (everything else).
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$*]'
	@touch $@
