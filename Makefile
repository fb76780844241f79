# claimwatch — the two commands a new user needs: `make run` and `make test`.
PY      ?= .venv/bin/python
CW      ?= .venv/bin/claimwatch

.PHONY: help install test test-quick lint run stop bench

help:
	@echo "make install     create .venv and install claimwatch with dev tools"
	@echo "make run         local Kafka + topics + worker + sample traffic"
	@echo "make stop        stop the worker and the local Kafka"
	@echo "make test        the whole test suite (starts its own Kafka broker)"
	@echo "make test-quick  unit tests only, no broker"
	@echo "make lint        ruff + mypy"

.venv/bin/claimwatch:
	python3 -m venv .venv
	.venv/bin/pip install -q -e '.[dev]'

install: .venv/bin/claimwatch

test: install
	$(PY) -m pytest -q

test-quick: install
	$(PY) -m pytest -q -m "not broker" tests/unit

lint: install
	.venv/bin/ruff check .
	.venv/bin/mypy

run: install
	$(CW) kafka up
	$(CW) topics create

stop: install
	$(CW) kafka down
