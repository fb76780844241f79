"""Sample traffic for `make run` and demos: real news texts when the team's data is
beside the checkout, otherwise a few short articles written for claimwatch.

Nothing is copied into the repository: the FNC-1 bodies and ordinary news are read
from ``../shared/data`` at run time.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

BUILT_IN: list[dict[str, str]] = [
    {
        "id": "demo-militia",
        "title": "Militia says it clashed with coalition troops; coalition denies it",
        "source": "demo-wire",
        "text": (
            "A militia group calling itself IMIS claimed on Sunday that its fighters had "
            "confronted US troops near the border town. The US-led coalition denied that any "
            "confrontation took place. Footage posted online allegedly shows the clash, but "
            "it could not be independently verified. Local officials reportedly said they had "
            "heard gunfire."
        ),
    },
    {
        "id": "demo-budget",
        "title": "City council approves budget",
        "source": "demo-local",
        "text": (
            "The city council approved next year's budget on Tuesday by a vote of seven to "
            "two. The plan adds funding for school repairs and two new parks, and keeps "
            "property taxes at their current rate. The budget takes effect in January."
        ),
    },
    {
        "id": "demo-celebrity",
        "title": "Singer's death rumour spreads online",
        "source": "demo-wire",
        "text": (
            "Reports that the singer had died spread quickly on social media on Monday. "
            "Her publicist dismissed the reports as a hoax and said she was alive and well. "
            "Some fans insisted the rumour started on a satirical website; the claim "
            "remains unconfirmed."
        ),
    },
    {
        "id": "demo-sports",
        "title": "Home side wins derby",
        "source": "demo-sports",
        "text": (
            "The home side won the derby two goals to one on Saturday. Both goals came in the "
            "second half, and the visitors' late penalty was saved. The win lifts the club to "
            "third place in the table."
        ),
    },
]


def sample_articles(data_dir: Path, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` articles: the built-in ones, then real texts from ``data_dir``."""
    articles: list[dict[str, Any]] = [dict(a) for a in BUILT_IN]
    bodies = data_dir / "fnc-1" / "train_bodies.csv"
    ordinary = data_dir / "ordinary-news"
    real: list[dict[str, Any]] = []
    if bodies.is_file():
        with bodies.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                real.append(
                    {"id": f"fnc-{row['Body ID']}", "text": row["articleBody"], "source": "fnc-1"}
                )
    if ordinary.is_dir():
        for path in sorted(ordinary.glob("*.txt")):
            title, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
            real.append(
                {
                    "id": f"ordinary-{path.stem}",
                    "title": title.strip(),
                    "text": body.strip(),
                    "source": path.stem.split(".")[0].rstrip("0123456789"),
                }
            )
    # Interleave the two kinds so a short sample still shows both.
    fnc = [a for a in real if a["source"] == "fnc-1"]
    rest = [a for a in real if a["source"] != "fnc-1"]
    for pair in zip(fnc, rest, strict=False):
        articles.extend(pair)
    articles.extend(fnc[len(rest) :])
    return [a for a in articles if str(a.get("text", "")).strip()][:limit]


def with_id_suffix(articles: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    """The articles with ``suffix`` appended to every id: new ids for the same texts, so a
    worker that has seen them decides them again instead of skipping them as duplicates."""
    return [{**article, "id": f"{article['id']}{suffix}"} for article in articles]


def write_jsonl(articles: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8"
    )
