"""``claimwatch train | evaluate | score``: the model's command-line shell.

Thin wrappers over :mod:`models`: parse arguments, call the pure functions,
print progress to stderr and results to stdout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from models.article.assess import ArticleModel, assess_batch
from models.artifact import load_model
from models.errors import ModelError
from models.training.data import Corpus, load_corpus, load_extra, load_polnear_texts
from service.settings import Settings

SCORE_BATCH = 256


class InputError(ModelError):
    """An article file for ``claimwatch score`` cannot be read."""

    code = "input_invalid"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train the contested-claim model")
    train.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data"),
        help="data directory (fnc-1/, ordinary-news/)",
    )
    train.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="extra labelled JSONL (id, text, label); repeatable",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=Path("models/artifacts"),
        help="output directory for the artifact and its card",
    )
    train.add_argument(
        "--evidence-from",
        type=Path,
        default=None,
        help="take the hedge model and attribution tagger from this v2 artifact instead of "
        "training them (retraining on verdicts: minutes less, same evidence)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--version", default="2.0.0", help="model version for the card")
    train.set_defaults(handler=run_train)

    evaluate = subparsers.add_parser("evaluate", help="reproduce CV metrics, plots, thresholds")
    evaluate.add_argument("--model", type=Path, default=None, help="artifact (.skops)")
    evaluate.add_argument("--compare", type=Path, default=None, help="second artifact")
    evaluate.add_argument("--data", type=Path, default=Path("../shared/data"))
    evaluate.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="extra labelled JSONL used in training; repeatable",
    )
    evaluate.add_argument(
        "--labelled",
        type=Path,
        action="append",
        default=[],
        help="held-out labelled JSONL to score directly; repeatable",
    )
    evaluate.add_argument(
        "--hedge-csv",
        type=Path,
        default=None,
        help="only measure the hedge model on this text,label CSV (CoNLL-2010 style)",
    )
    evaluate.add_argument(
        "--attributions",
        type=Path,
        default=None,
        help="only measure the attribution tagger on this PolNeAR-format directory "
        "(text/*.txt, attributions/*.ann)",
    )
    evaluate.add_argument("--out", type=Path, default=Path("reports/evaluate"))
    evaluate.add_argument("--no-baselines", action="store_true")
    evaluate.set_defaults(handler=run_evaluate)

    score = subparsers.add_parser("score", help="score articles, one JSON record per line")
    score.add_argument("path", help="a text file (one article), a .jsonl file, or - for stdin")
    score.add_argument("--model", type=Path, default=None, help="artifact (.skops)")
    score.add_argument("--threshold", type=float, default=None)
    score.set_defaults(handler=run_score)


def _model(path: Path | None, settings: Settings) -> ArticleModel:
    return load_model(path if path is not None else settings.model_path)


def _evidence_models(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Trained here, or taken from an existing v2 artifact (``--evidence-from``)."""
    from models.article.evidence_model import EvidenceClaimModel
    from models.training.evidence import train_evidence

    if args.evidence_from is None:
        return train_evidence(args.data, args.seed, _progress)
    source = load_model(args.evidence_from)
    if not isinstance(source, EvidenceClaimModel):
        raise InputError(f"--evidence-from {args.evidence_from}: not a v2 (evidence) artifact")
    _progress(f"evidence models from {args.evidence_from} (sha256 {source.sha256[:12]}…)")
    section = dict(source.card.get("evidence_models", {}))
    section["taken_from"] = {"artifact": args.evidence_from.name, "sha256": source.sha256}
    return source.evidence, section


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    from models.training.train import train

    corpus = load_corpus(args.data, args.extra)
    _progress(
        f"loaded {len(corpus.texts)} articles from {args.data}"
        + (f" + {len(args.extra)} extra file(s)" if args.extra else "")
    )
    evidence, evidence_card = _evidence_models(args)
    political = load_polnear_texts(args.data)
    model, path = train(
        corpus, evidence, evidence_card, args.out, args.seed, _progress, args.version,
        unlabelled={"polnear_train_dev": political} if political else None,
        political=political or None,
    )
    print(
        json.dumps(
            {
                "artifact": str(path),
                **model.info(),
                "thresholds": model.card["thresholds"],
                "cv_metrics": model.card["cv"]["metrics"],
            },
            indent=2,
        )
    )
    return 0


def run_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from models.training.evaluate import evaluate

    model = _model(args.model, settings)
    if args.hedge_csv is not None or args.attributions is not None:
        return _evaluate_evidence(model, args)
    other = load_model(args.compare) if args.compare else None
    corpus = load_corpus(args.data, args.extra)
    labelled = None
    if args.labelled:
        labelled = Corpus()
        for path in args.labelled:
            load_extra(labelled, path)
    report = evaluate(
        model, corpus, args.out, _progress, other, labelled, not args.no_baselines,
        load_polnear_texts(args.data) or None,
    )
    summary = {name: part["cv_metrics"] for name, part in report.items() if name != "baselines"}
    print(
        json.dumps(
            {
                "report": str(args.out / "report.json"),
                "cv_metrics": summary,
                "matches_card": report["model"]["matches_card"],
            },
            indent=2,
        )
    )
    return 0


Article = tuple[str, str, str | None]  # id, text, title


def _evaluate_evidence(model: ArticleModel, args: argparse.Namespace) -> int:
    """The hedge and attribution figures of the card, on labelled data given here."""
    from models.article.evidence_model import EvidenceClaimModel
    from models.training.evidence import measure_hedge, measure_tagger

    if not isinstance(model, EvidenceClaimModel):
        raise InputError("--hedge-csv / --attributions need a v2 (evidence) artifact")
    report: dict[str, Any] = {"model": model.info()}
    if args.hedge_csv is not None:
        _progress(f"hedge model on {args.hedge_csv}")
        report["hedge"] = measure_hedge(model.evidence.hedge, args.hedge_csv)
    if args.attributions is not None:
        _progress(f"attribution tagger on {args.attributions}")
        report["attributions"] = measure_tagger(model.evidence.tagger, args.attributions)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "evidence.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


def _articles(path: str, stdin: TextIO) -> Iterator[Article]:
    """(id, text, title) triples, streamed: a .jsonl file, a plain text file, or stdin."""
    if path == "-":
        first = stdin.readline()
        if first.lstrip().startswith("{"):
            yield from _jsonl(itertools.chain([first], stdin), "stdin")
        else:
            yield "stdin", first + stdin.read(), None
        return
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no such file: {path}")
    with file.open(encoding="utf-8", errors="replace") as handle:
        if file.suffix == ".jsonl":
            yield from _jsonl(handle, path)
        else:
            yield file.stem, handle.read(), None


def _jsonl(lines: Iterable[str], name: str) -> Iterator[Article]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            article_id, text = str(record["id"]), record["text"]
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{name}:{number}: expected a JSON object with id and text") from None
        title = record.get("title")
        if not isinstance(text, str) or not isinstance(title, str | None):
            raise InputError(f"{name}:{number}: text (and title, if any) must be strings")
        yield article_id, text, title


def run_score(args: argparse.Namespace, settings: Settings) -> int:
    threshold = args.threshold if args.threshold is not None else settings.threshold
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InputError(f"--threshold must be between 0 and 1, not {threshold}")
    model = _model(args.model, settings)
    batch: list[Article] = []

    def flush() -> None:
        ids, texts, titles = [b[0] for b in batch], [b[1] for b in batch], [b[2] for b in batch]
        for record in assess_batch(model, ids, texts, threshold, titles):
            sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        batch.clear()

    for article in _articles(args.path, sys.stdin):
        batch.append(article)
        if len(batch) >= SCORE_BATCH:
            flush()
    if batch:
        flush()
    return 0
