"""Stands in for the cramjam package when this folder leads PYTHONPATH: importing it
fails as if cramjam were not installed, so aiokafka has no snappy, lz4 or zstd codec
(tests/integration/test_undecodable_batch.py)."""

raise ImportError("cramjam is hidden from this process by the test")
