# claimwatch — the two commands a new user needs: `make run` and `make test`.
PY      ?= .venv/bin/python
CW      ?= .venv/bin/claimwatch

.PHONY: help install test test-quick lint run stop bench soak chaos

help:
	@echo "make install     create .venv and install claimwatch with dev tools"
	@echo "make run         local Kafka + topics + worker + sample traffic"
	@echo "make stop        stop the worker and the local Kafka"
	@echo "make test        the whole test suite (starts its own Kafka broker)"
	@echo "make test-quick  unit tests only, no broker"
	@echo "make lint        ruff + mypy"
	@echo "make bench       throughput/latency/scale benchmarks (prints a table, writes bench/results/)"
	@echo "make soak        one worker through 300k distinct articles: RSS and restart time (~15 min)"
	@echo "make chaos       failure drill, both guarantees: workers and a broker killed mid-stream (~10 min)"

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

bench: install
	$(PY) -m bench.run

soak: install
	$(PY) -m bench.soak

CHAOS_ARGS ?=
chaos: install
	$(PY) -m bench.chaos $(CHAOS_ARGS)

LOCAL   ?= .local

run: install
	@mkdir -p $(LOCAL)
	$(CW) kafka up
	$(CW) topics create
	@date +%s > $(LOCAL)/run-started
	$(CW) sample --out $(LOCAL)/sample.jsonl --limit 500 --id-suffix "@run-$$(cat $(LOCAL)/run-started)"
	@if [ -f $(LOCAL)/worker.pid ] && kill -0 $$(cat $(LOCAL)/worker.pid) 2>/dev/null; then \
	  echo "worker already running (pid $$(cat $(LOCAL)/worker.pid))"; \
	else \
	  $(CW) worker > $(LOCAL)/worker.log 2>&1 & echo $$! > $(LOCAL)/worker.pid; \
	  echo "worker started (pid $$(cat $(LOCAL)/worker.pid)), log in $(LOCAL)/worker.log"; \
	fi
	$(CW) produce $(LOCAL)/sample.jsonl --rate 200
	@echo "--- the first articles of this run flagged for review (topic articles.flagged):"
	@$(CW) review tail --since $$(cat $(LOCAL)/run-started) --max 3 --timeout 60
	@echo
	@echo "claimwatch is running:"
	@echo "  metrics     http://127.0.0.1:6066/metrics   (health: /healthz, readiness: /readyz)"
	@echo "  per source  http://127.0.0.1:6066/stats/sources"
	@echo "  flagged     .venv/bin/claimwatch review tail --from-beginning"
	@echo "  reviewers   CLAIMWATCH_REVIEW_TOKEN=secret .venv/bin/claimwatch review serve  (http://127.0.0.1:8080)"
	@echo "  stop        make stop"

stop:
	-@[ -f $(LOCAL)/worker.pid ] && kill $$(cat $(LOCAL)/worker.pid) 2>/dev/null; rm -f $(LOCAL)/worker.pid
	-$(CW) kafka down
