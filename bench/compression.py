"""The worker's output codec (``CLAIMWATCH_COMPRESSION``) measured side by side.

``python -m bench.compression [--articles 1500] [--rounds 2] [--codecs none,zstd]``
starts its own broker, warms it up, then for each round runs one fresh worker per codec
(in an order reversed every other round, so no codec always goes first) draining the
same backlog, and prints per codec: articles/s, the worker's CPU-seconds, and the
bytes its outputs (``articles.scored`` and ``articles.flagged``) take in the broker's
log segments, which is also what crosses the network to the broker and to every
reader of those topics. Compare codecs within a round: runs on a shared 2-core
machine move by ±10%.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import article_lines, load_corpus
from bench.end_to_end import Workers
from bench.run import PARTITIONS, ROOT, kafka, warm_up_broker
from service.settings import COMPRESSION_TYPES


def topic_bytes(work: Path, topic: str) -> int:
    """Bytes of ``topic``'s log segments on the bench's own broker."""
    return sum(path.stat().st_size for path in work.glob(f"kafka/node-*/data/{topic}-*/*.log"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compression", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--codecs", default=",".join(COMPRESSION_TYPES))
    args = parser.parse_args(argv)
    codecs = [c for c in args.codecs.split(",") if c]
    corpus = load_corpus(args.data)
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        work = Path(tmp)
        with kafka(None, work) as bootstrap:
            warm_up_broker(bootstrap, work, corpus, 500)
            for n in range(args.rounds):
                for codec in codecs if n % 2 == 0 else codecs[::-1]:
                    with Workers(bootstrap, work, 1, PARTITIONS, compression=codec) as one:
                        one.drain(article_lines(corpus, 100, f"warm{n}{codec}"))
                        lines = article_lines(corpus, args.articles, f"round{n}{codec}")
                        run = one.drain(lines)
                        settings = one.settings
                    outputs = (settings.topic_scored, settings.topic_flagged)
                    out = sum(topic_bytes(work, topic) for topic in outputs)
                    row = {
                        "round": n,
                        "codec": codec,
                        "articles_per_s": round(run.rate, 1),
                        "worker_cpu_s": round(sum(run.cpu_s), 2),
                        "output_bytes": out,
                        "output_bytes_per_article": round(out / (len(lines) + 100)),
                    }
                    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
