"""The benchmarks import: they are run by hand (`make bench`), so nothing else would
notice a module they use moving (the layout change did exactly that once)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "bench.run",
        "bench.one_worker",
        "bench.naive_loop",
        "bench.offline",
        "bench.report",
        "bench.claims",
    ],
)
def test_bench_modules_import(module: str) -> None:
    importlib.import_module(module)
