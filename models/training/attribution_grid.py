"""Comparison grid for the attribution tagger, measured on PolNeAR dev (its model-selection
split; the test split is not used anywhere).

Usage::

    python -m models.training.attribution_grid [--data ../shared/data] [--out grid.json]
    python -m models.training.attribution_grid --quick   # the shipped settings only

Each configuration is a CRF fitted on PolNeAR train exactly as ``claimwatch train`` fits
it (:func:`models.training.evidence.train_tagger`'s settings, with the CRF's elastic-net
penalties and iteration cap varied), then swept over the cue-score shifts that training
chooses from (:func:`models.training.evidence.choose_cue_bias`). Each row gives, at the
chosen shift, the dev cue span-overlap P/R/F1, the same-sentence source figure and the
fitting time. One fit takes one and a half to three minutes on the 2-core build machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from models.training import attribution as attribution_training
from models.training.evidence import CRF_SETTINGS, choose_cue_bias

# The shipped settings first; with hyphenated words as one token, every elastic net from
# c1 0.8 to 3 and c2 0.2 to 1 gave a dev cue F1 of 0.759-0.763 (one fit each), the
# 2.1.0 settings (c1 0.05, c2 0.01) 0.728.
GRID: list[dict[str, Any]] = [
    dict(CRF_SETTINGS),
    {"c1": 0.05, "c2": 0.01, "max_iterations": 100},
    {"c1": 0.4, "c2": 0.2, "max_iterations": 100},
    {"c1": 0.4, "c2": 0.2, "max_iterations": 200},
    {"c1": 0.4, "c2": 0.5, "max_iterations": 100},
    {"c1": 0.8, "c2": 0.2, "max_iterations": 100},
    {"c1": 0.8, "c2": 0.5, "max_iterations": 100},
    {"c1": 1.0, "c2": 0.05, "max_iterations": 100},
    {"c1": 1.6, "c2": 0.2, "max_iterations": 100},
    {"c1": 1.6, "c2": 0.5, "max_iterations": 100},
    {"c1": 3.0, "c2": 0.2, "max_iterations": 100},
]


def run_grid(data_dir: Path, grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fit and measure every configuration of ``grid``; one row each, in grid order."""
    root = data_dir / "polnear"
    train = attribution_training.load_polnear(root / "train")
    dev = attribution_training.load_polnear(root / "dev")
    rows = []
    for number, settings in enumerate(grid, 1):
        print(f"[{number}/{len(grid)}] {settings}: fitting on {len(train)} articles", flush=True)
        began = time.monotonic()
        tagger, _ = attribution_training.train_tagger(
            train, filter_sentences=False, use_rates=False, **settings
        )
        fit_s = time.monotonic() - began
        bias, by_bias = choose_cue_bias(tagger, dev)
        best = next(row for row in by_bias if row["bias"] == bias)
        rows.append(
            {"settings": settings, "fit_s": round(fit_s), "bias": bias, **best, "by_bias": by_bias}
        )
        print(
            f"  cue P {best['p']:.3f} R {best['r']:.3f} F1 {best['f1']:.3f}, same-sentence"
            f" source {best['same_sentence_source']:.3f} (shift {bias}, fit {fit_s:.0f} s)",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="the shared data directory"
    )
    parser.add_argument("--quick", action="store_true", help="the shipped settings only")
    parser.add_argument("--out", default="attribution-grid.json")
    args = parser.parse_args()
    rows = run_grid(args.data, GRID[:1] if args.quick else GRID)
    print("\n| c1 | c2 | iterations | cue P | cue R | cue F1 | same-sentence source | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["settings"]
        print(
            f"| {s['c1']} | {s['c2']} | {s['max_iterations']} | {r['p']:.3f} | {r['r']:.3f}"
            f" | {r['f1']:.3f} | {r['same_sentence_source']:.3f} | {r['fit_s']} |"
        )
    Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
