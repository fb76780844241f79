"""The scoring profile (``throughput --stages``, ``make bench``) finds every part it names."""

from __future__ import annotations

from model_samples import shared_model

from models.training.throughput import PROFILE_PARTS, profile_scoring

TEXTS = [
    "IMIS claimed it attacked a US patrol. The US-led coalition denied it, officials said.",
    "The council approved the budget on Tuesday. It will fund two new schools.",
] * 8


def test_every_part_is_found_in_the_profile_and_shares_are_fractions() -> None:
    total, parts, top = profile_scoring(shared_model(), TEXTS, 4)
    assert total > 0
    assert [part.name for part in parts] == [name for name, _, _ in PROFILE_PARTS]
    # a part whose function was renamed or moved would show 0 here
    assert all(0.0 < part.share < 1.0 for part in parts), parts
    assert len(top) == 8
