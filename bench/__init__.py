"""Benchmarks of claimwatch: `make bench` runs :mod:`bench.run`."""
