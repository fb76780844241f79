"""Training data: FNC-1 bodies, ordinary news and extra labelled JSONL, with labels and groups.

Paths are arguments (the CLI defaults to ``../shared/data``); nothing is copied.
Groups keep bodies that share a headline together, so cross-validation never
puts one story on both sides of a split.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.errors import ModelError

LABELS = ("contested", "not_contested")
CONTESTED_STANCES = frozenset({"discuss", "disagree"})


class DataError(ModelError):
    """Training or evaluation data is missing or malformed."""

    code = "data_invalid"


@dataclass
class Corpus:
    """Parallel lists of articles with their labels, groups and provenance."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    contested: list[int] = field(default_factory=list)  # the data README's rule
    denial: list[int] = field(default_factory=list)  # a related headline is "disagree"
    mixed: list[bool] = field(default_factory=list)  # FNC body with agree and discuss/disagree
    share: list[float] = field(default_factory=list)  # contested share of related headlines
    groups: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # "fnc", "ordinary:<domain>", "extra"

    def add(self, id_: str, text: str, contested: int, denial: int, group: str, source: str,
            mixed: bool = False, share: float | None = None) -> None:
        self.ids.append(id_)
        self.texts.append(text)
        self.contested.append(contested)
        self.denial.append(denial)
        self.mixed.append(mixed)
        self.share.append(float(contested) if share is None else share)
        self.groups.append(group)
        self.sources.append(source)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contested labels, denial labels and groups as numpy arrays."""
        return (np.asarray(self.contested), np.asarray(self.denial), np.asarray(self.groups))


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"missing data file {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _components(edges: dict[str, set[str]], nodes: list[str]) -> dict[str, str]:
    parent = {node: node for node in nodes}

    def find(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for members in edges.values():
        first, *rest = sorted(members)
        for other in rest:
            parent[find(other)] = find(first)
    return {node: find(node) for node in nodes}


def load_fnc(corpus: Corpus, fnc_dir: Path) -> None:
    """Add FNC-1 bodies; a body's group is its connected component over shared headlines."""
    bodies = {row["Body ID"]: row["articleBody"] for row in _read_csv(fnc_dir / "train_bodies.csv")}
    stances: dict[str, list[str]] = defaultdict(list)
    headlines: dict[str, set[str]] = defaultdict(set)
    for row in _read_csv(fnc_dir / "train_stances.csv"):
        if row["Stance"] != "unrelated" and row["Body ID"] in bodies:
            stances[row["Body ID"]].append(row["Stance"])
            headlines[row["Headline"]].add(row["Body ID"])
    group_of = _components(headlines, sorted(bodies))
    for body_id in sorted(bodies, key=int):
        stance_list = stances.get(body_id, [])
        related = set(stance_list)
        contested = int(bool(related & CONTESTED_STANCES))
        mixed = "agree" in related and contested == 1
        share = sum(s in CONTESTED_STANCES for s in stance_list) / max(len(stance_list), 1)
        corpus.add(f"fnc-{body_id}", bodies[body_id], contested, int("disagree" in related),
                   f"fnc:{group_of[body_id]}", "fnc", mixed, share)


def load_ordinary(corpus: Corpus, news_dir: Path) -> None:
    """Add ordinary news (negatives); each domain (biz, edu, sports) is one group."""
    files = sorted(news_dir.glob("*.txt"))
    if not files:
        raise DataError(f"no ordinary-news *.txt files in {news_dir}")
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n", 2)
        body = lines[2] if len(lines) > 2 else lines[-1]
        domain = "".join(ch for ch in path.name.split(".")[0] if ch.isalpha())
        corpus.add(f"ordinary-{path.stem}", body.strip(), 0, 0, f"ordinary:{domain}",
                   f"ordinary:{domain}")


def load_extra(corpus: Corpus, path: Path) -> int:
    """Add reviewer-labelled JSONL lines ``{"id", "text", "label"}``; returns how many."""
    if not path.is_file():
        raise DataError(f"missing extra data file {path}")
    added = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                id_, text, label = str(record["id"]), record["text"], record["label"]
            except (ValueError, KeyError, TypeError) as error:
                raise DataError(f"{path}:{number}: not a labelled article ({error})") from None
            if label not in LABELS or not isinstance(text, str):
                raise DataError(f"{path}:{number}: label must be one of {LABELS}, text a string")
            corpus.add(f"extra-{id_}", text, int(label == "contested"), 0, f"extra:{id_}", "extra")
            added += 1
    return added


def load_corpus(data_dir: Path, extra: list[Path] | None = None) -> Corpus:
    """FNC-1 + ordinary news under ``data_dir``, plus any extra labelled JSONL files."""
    corpus = Corpus()
    load_fnc(corpus, data_dir / "fnc-1")
    load_ordinary(corpus, data_dir / "ordinary-news")
    for path in extra or []:
        load_extra(corpus, path)
    return corpus


def news_kind(source: str, contested: int) -> str:
    """``ordinary``, ``contested`` or ``asserted``: the three kinds of article the corpus
    holds (an FNC-1 body by the data README's rule, :attr:`Corpus.contested`)."""
    if source.startswith("ordinary"):
        return "ordinary"
    return "contested" if contested else "asserted"


def load_polnear_texts(data_dir: Path) -> list[str]:
    """PolNeAR train + dev article texts (political hard news), for an unlabelled check of
    how often the model flags them; empty when the directory is absent."""
    files = sorted((data_dir / "polnear").glob("*/text/*.txt"))
    return [path.read_text(encoding="utf-8") for path in files]
