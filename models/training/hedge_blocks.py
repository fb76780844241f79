"""How the hedge model's vocabulary and C were chosen: CV over blocks of articles.

Usage::

    python -m models.training.hedge_blocks [--data ../shared/data] [--rows 50 20 200 1]
        [--penalty l2 l1] [--min-blocks 1 3 8] [--C 0.5 1 1.5 2 3] [--weasel off on]
        [--seeds 0 1 2]

The wiki-weasel file keeps Wikipedia's order (a few sentences of an article, then the
next), and CoNLL-2010's test half is other articles. So every configuration is
cross-validated with :func:`models.training.hedge.block_groups` at each ``--rows``
(stratified 5-fold, three seeds), its vocabulary kept to the word n-grams found in at
least ``--min-blocks`` blocks of 50 sentences of the training part (the product's
:data:`~models.training.hedge.BLOCK_ROWS`), and ``--rows 1`` gives the CV over single
sentences (duplicates grouped) that rated 2.4.0's model; ``--weasel on`` adds the
weasel-word group flags (:mod:`models.evidence.weasel`, since 2.7.0). Prints one JSON line per
configuration: the mean over seeds of the per-fold F1 at the pooled best threshold, of
the nested F1 (each fold's threshold chosen on the others) and of the pooled ROC-AUC,
and its non-zero weights in the last fold; then the best configuration per ``--rows``,
and the one whose F1 averaged over the block sizes (``--rows`` above 1) is highest: the
rule that chose :data:`~models.training.hedge.CHOSEN`. About 15 minutes on the build
machine with the defaults; 2.7.0's comparison (``--penalty l1 --min-blocks 1 --C 1.5 2
3 --weasel off on``) about 6.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from models.training.hedge import (
    BLOCK_ROWS,
    CHOSEN,
    block_groups,
    cross_validate_hedge,
    load_weasel,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rows", type=int, nargs="+", default=[50, 20, 200, 1])
    parser.add_argument("--penalty", choices=["l2", "l1"], nargs="+", default=["l2", "l1"])
    parser.add_argument("--min-blocks", type=int, nargs="+", default=[1, 3, 8])
    parser.add_argument("--C", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0, 3.0])
    parser.add_argument("--weasel", choices=["off", "on"], nargs="+", default=["off"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    path = args.data / "wiki-weasel" / "train.csv"
    if not path.exists():
        print(f"hedge_blocks: missing {path}", file=sys.stderr)
        return 2
    texts, labels, duplicates = load_weasel(path)
    spread = block_groups(duplicates, BLOCK_ROWS)
    print(f"{len(texts)} sentences, {int(labels.sum())} uncertain", file=sys.stderr)
    by_config: dict[tuple[str, int, float, str], list[float]] = {}
    for rows in args.rows:
        groups = block_groups(duplicates, rows) if rows > 1 else duplicates
        best: tuple[float, dict[str, object]] | None = None
        for penalty, weasel, min_blocks, c in itertools.product(
            args.penalty, args.weasel, args.min_blocks, args.C
        ):
            params = replace(CHOSEN, C=c, min_blocks=min_blocks, l1=penalty == "l1",
                             weasel=weasel == "on")
            started = time.monotonic()
            runs = [
                cross_validate_hedge(texts, labels, groups, params, seed=seed,
                                     spread_groups=spread)
                for seed in args.seeds
            ]
            f1 = float(np.mean([r["f1_mean"] for r in runs]))
            row: dict[str, object] = {
                "rows": rows,
                "penalty": penalty,
                "weasel": weasel,
                "min_blocks": min_blocks,
                "C": c,
                "f1": round(f1, 4),
                "f1_nested": round(
                    float(np.mean([r["f1_nested_mean"] for r in runs])), 4
                ),
                "auc": round(float(np.mean([r["auc_pooled"] for r in runs])), 4),
                "nonzero_weights": runs[-1]["nonzero_weights"],
                "seconds": round(time.monotonic() - started, 1),
            }
            print(json.dumps(row), flush=True)
            if rows > 1:
                by_config.setdefault((penalty, min_blocks, c, weasel), []).append(f1)
            if best is None or f1 > best[0]:
                best = (f1, row)
        if best is not None:
            print(json.dumps({"best": best[1]}), flush=True)
    if by_config:
        (penalty, min_blocks, c, weasel), f1s = max(by_config.items(),
                                                     key=lambda kv: np.mean(kv[1]))
        print(json.dumps({"best_over_block_sizes": {
            "penalty": penalty, "min_blocks": min_blocks, "C": c, "weasel": weasel,
            "f1_mean": round(float(np.mean(f1s)), 4), "f1_by_rows": [round(f, 4) for f in f1s],
        }}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
