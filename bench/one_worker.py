"""One worker end to end, a few rounds, with settings overridden: for A/B comparisons.

``python -m bench.one_worker [--rounds 2] [--articles 4000] [--stream]
[--set batch_size=256 ...]`` starts its own broker, warms it up, then per round
starts a fresh worker on new topics and prints its throughput draining a backlog
(or, with ``--stream``, while the bench produces) and where the CPU went. To
compare two versions of the code, run it in both checkouts one after the other,
twice (A B A B): runs on this kind of machine vary by ±10%, so one run each proves
little.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from bench.corpus import article_lines, load_corpus
from bench.end_to_end import Workers
from bench.run import PARTITIONS, ROOT, kafka, warm_up_broker
from service.settings import Settings


def overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``name=value`` pairs → Settings fields, converted to each field's type."""
    types = {f.name: f.type for f in fields(Settings)}
    result: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in types:
            raise SystemExit(f"--set {pair}: no setting {name!r}")
        kind = str(types[name])
        result[name] = int(value) if kind == "int" else float(value) if kind == "float" else value
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.one_worker", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stream", action="store_true", help="produce while the worker reads")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    settings = overrides(args.set)
    corpus = load_corpus(args.data)
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        work = Path(tmp)
        with kafka(None, work) as bootstrap:
            warm_up_broker(bootstrap, work, corpus, args.articles)
            for n in range(args.rounds):
                with Workers(bootstrap, work, 1, PARTITIONS, **settings) as one:
                    one.drain(article_lines(corpus, 200, f"warm{n}"))
                    lines = article_lines(corpus, args.articles, f"round{n}")
                    run = one.measure(lines) if args.stream else one.drain(lines)
                print(
                    f"round {n}: {run.rate:,.0f} articles/s ({len(run.stamps)} in "
                    f"{run.seconds:.2f} s); CPU-s: worker {sum(run.cpu_s):.2f}, bench"
                    f" {run.bench_cpu_s:.2f}, broker and the rest {run.other_cpu_s:.2f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
