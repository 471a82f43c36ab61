.PHONY: install lint test bench

install:
	pip install -e '.[dev]'

lint:
	ruff check .
	ruff format --check .
	mypy

test:
	pytest

bench:
	python benchmarks/bench_loop.py
	python benchmarks/bench_schema.py
	python benchmarks/bench_import.py
	python benchmarks/bench_sessions.py
	python benchmarks/bench_finetune.py --examples 20000
