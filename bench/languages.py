"""Language detectors compared: accuracy on short and long texts, and cost per article.

``python -m bench.languages [--data ../shared/data]`` measures each candidate on

- English headlines (FNC-1 ``train_stances.csv``, unique headlines) and English bodies
  (FNC-1 bodies and the ordinary-news articles): an English article taken for another
  language is never scored, so this is the error that costs flags;
- ``bench/data/languages.jsonl``: short (a headline or one sentence) and long (a
  paragraph) news texts in eleven other languages, written for this bench;

and the time per article on the bench corpus (2-4 KB English bodies), one article at a
time as the worker calls it, plus the memory the detector adds to the process (run one
candidate per process with ``--only`` for that figure to be its own). Every candidate
ships its models inside its package; none downloads anything. py3langid is a
dependency; lingua is not (``pip install lingua-language-detector`` to compare).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "data" / "languages.jsonl"

# A detector: text -> (ISO 639-1 code or None, the detector's confidence in it, 0-1).
Detector = Callable[[str], tuple[str | None, float]]
# Texts are cut to their first characters before detection, as the worker does
# (service/pipeline/language.py: DETECT_CHARS); --prefix-chars tries others.
PREFIX_CHARS = 1000
# The rule the worker applies: skip an article only when the detector is at least this
# sure that it is in a language the model does not support.
SKIP_CONFIDENCES = (0.0, 0.5, 0.8, 0.9)


def lingua_detector(low_accuracy: bool) -> Detector:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def detect(text: str) -> tuple[str | None, float]:
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value == 0:
            return None, 0.0
        return values[0].language.iso_code_639_1.name.lower(), values[0].value

    return detect


def py3langid_detector() -> Detector:
    import py3langid

    identifier = py3langid.langid.LanguageIdentifier.from_model_file(
        py3langid.langid.MODEL_FILE, norm_probs=True
    )

    def detect(text: str) -> tuple[str | None, float]:
        language, probability = identifier.classify(text)
        return str(language), float(probability)

    return detect


CANDIDATES: dict[str, Callable[[], Detector]] = {
    "lingua (high accuracy)": lambda: lingua_detector(low_accuracy=False),
    "lingua (low accuracy)": lambda: lingua_detector(low_accuracy=True),
    "py3langid": py3langid_detector,
}


def english_sets(data: Path) -> dict[str, list[str]]:
    csv.field_size_limit(10_000_000)
    sets: dict[str, list[str]] = {"en short": [], "en long": []}
    stances = data / "fnc-1" / "train_stances.csv"
    if stances.is_file():
        with stances.open(encoding="utf-8", newline="") as handle:
            headlines = sorted({row["Headline"].strip() for row in csv.DictReader(handle)})
        sets["en short"] = headlines
    bodies = data / "fnc-1" / "train_bodies.csv"
    if bodies.is_file():
        with bodies.open(encoding="utf-8", newline="") as handle:
            sets["en long"] = [row["articleBody"].strip() for row in csv.DictReader(handle)]
    for path in sorted((data / "ordinary-news").glob("*.txt")):
        sets["en long"].append(path.read_text(encoding="utf-8", errors="replace").strip())
    sets["en long"] = [text for text in sets["en long"] if text]
    return sets


def other_sets() -> dict[str, list[tuple[str, str]]]:
    sets: dict[str, list[tuple[str, str]]] = {"other short": [], "other long": []}
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        sets[f"other {sample['kind']}"].append((sample["language"], sample["text"]))
    return sets


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    name: str,
    build: Callable[[], Detector],
    data: Path,
    timing: Sequence[str],
    prefix_chars: int = PREFIX_CHARS,
) -> dict:
    before = rss_mb()
    started = time.perf_counter()
    build_detector = build()
    build_detector("warm up")
    loaded_s = time.perf_counter() - started

    def detect(text: str) -> tuple[str | None, float]:
        return build_detector(text[:prefix_chars])

    row: dict[str, object] = {
        "detector": name,
        "prefix_chars": prefix_chars,
        "load_s": round(loaded_s, 2),
    }
    english = {name: [detect(t) for t in texts] for name, texts in english_sets(data).items()}
    others = {
        name: [(language, detect(text)) for language, text in samples]
        for name, samples in other_sets().items()
    }
    for set_name, found in english.items():
        row[set_name] = f"{sum(code == 'en' for code, _ in found)}/{len(found)}"
    for set_name, pairs in others.items():
        right = sum(code == language for language, (code, _) in pairs)
        row[set_name] = f"{right}/{len(pairs)}"
    for floor in SKIP_CONFIDENCES:
        # English must be scored; the other languages must be skipped.
        wrongly_skipped = sum(
            code != "en" and sure >= floor for found in english.values() for code, sure in found
        )
        scored = sum(
            not (code not in (None, "en") and sure >= floor)
            for pairs in others.values()
            for _, (code, sure) in pairs
        )
        row[f"skip at >= {floor}: en skipped / other scored"] = f"{wrongly_skipped} / {scored}"
    started = time.perf_counter()
    for text in timing:
        detect(text)
    row["ms per article"] = round((time.perf_counter() - started) * 1000 / len(timing), 3)
    row["memory MB"] = round(rss_mb() - before)
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.languages", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--only", choices=sorted(CANDIDATES), help="measure one candidate")
    parser.add_argument("--prefix-chars", type=int, action="append", default=None)
    args = parser.parse_args(argv)
    timing = load_corpus(args.data).texts[:500]
    names = [args.only] if args.only else list(CANDIDATES)
    for name in names:
        for prefix in args.prefix_chars or [PREFIX_CHARS]:
            try:
                row = measure(name, CANDIDATES[name], args.data, timing, prefix)
            except ImportError as error:
                row = {"detector": name, "not installed": str(error)}
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
