"""Claim clustering speed beside the worker's scoring speed, on the same articles.

``python -m bench.claims --data ../shared/data`` streams FNC-1 train headlines and
bodies (:func:`models.claims.evaluate.load_fnc1`) through the clusterer
(representation + placement, one article at a time, as the service would) and
through the worker's scoring (:func:`bench.offline.assess_rate`, batches of the
default size), in one process, one after the other, and prints both rates and
their ratio. The clusterer only has to keep up with the *flagged* stream, a part
of what the worker scores, so a ratio above 1 means it can never be the bottleneck.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.offline import assess_rate
from models.artifact import load_model
from models.claims.cluster import ClaimClusterer
from models.claims.evaluate import load_fnc1
from models.claims.represent import claim_terms
from service.settings import Settings


def clustering_rate(texts: list[str], passes: int) -> tuple[float, int]:
    """Articles per second through representation + placement, and live clusters at the end.

    The texts are streamed ``passes`` times under new ids, so later passes run
    against a window that already holds every story.
    """
    clusterer = ClaimClusterer()
    started = time.perf_counter()
    for round_ in range(passes):
        for index, text in enumerate(texts):
            clusterer.add(f"{round_}-{index}", claim_terms(text), now=float(round_))
    return passes * len(texts) / (time.perf_counter() - started), len(clusterer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--passes", type=int, default=3, help="times the clusterer streams it")
    parser.add_argument("--score-limit", type=int, default=1000, help="articles scored")
    args = parser.parse_args()
    texts = [article.text for article in load_fnc1(args.data)]
    settings = Settings.from_env()
    model = load_model()
    assess_rate(model, texts[:64], settings.batch_size)  # warm-up
    scoring = assess_rate(model, texts[: args.score_limit], settings.batch_size)
    clustering, live = clustering_rate(texts, args.passes)
    print(
        json.dumps(
            {
                "data": "FNC-1 train headlines and bodies (fnc-1/)",
                "articles": len(texts),
                "clustering_per_s": round(clustering, 1),
                "clustering_articles": args.passes * len(texts),
                "live_clusters_at_end": live,
                "scoring_per_s": round(scoring, 1),
                "scoring_articles": min(args.score_limit, len(texts)),
                "clustering_over_scoring": round(clustering / scoring, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
