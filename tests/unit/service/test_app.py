"""Building the worker's app, without a broker."""

from __future__ import annotations

from pathlib import Path

from faust.types import TP

from service.app import RereadAfterSeek, build_app, new_metrics
from service.model_reload import ModelHolder
from service.settings import Settings


def test_the_articles_topic_is_never_dropped_as_already_read() -> None:
    offsets = RereadAfterSeek("articles", {TP("articles", 0): 500, TP("changelog", 0): 7})
    offsets[TP("articles", 1)] = 900  # what Faust's fetcher does after each message
    assert offsets[TP("articles", 0)] is None
    assert offsets[TP("articles", 1)] is None
    assert offsets[TP("changelog", 0)] == 7
    assert offsets[TP("changelog", 1)] is None  # still a defaultdict for other topics


def test_building_the_app_leaves_the_consumer_to_the_faust_worker(tmp_path: Path) -> None:
    # A consumer created before Faust's worker starts is built without transactions,
    # and exactly-once silently becomes at-least-once (seen here once).
    settings = Settings(
        processing_guarantee="exactly_once", home=tmp_path, data_dir=tmp_path / "data"
    )
    worker = build_app(settings, ModelHolder(None), new_metrics(settings))
    assert worker.app._consumer is None
    assert worker.app.conf.processing_guarantee.value == "exactly_once"
    assert worker.articles.acks is False  # the agent commits this topic itself
