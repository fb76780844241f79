"""The path of one article: decode → validate → dedupe → readable →
language → score → decide → route.

Plain functions over typed records; no Kafka, no Faust (see docs/architecture.md).
"""
