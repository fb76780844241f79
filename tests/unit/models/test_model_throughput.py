"""The throughput tool's stage breakdown finds every stage it names."""

from __future__ import annotations

from model_samples import shared_model

from models.training.throughput import STAGES, stage_shares

TEXTS = [
    "IMIS claimed it attacked a US patrol. The US-led coalition denied it, officials said.",
    "The council approved the budget on Tuesday. It will fund two new schools.",
] * 8


def test_every_stage_is_found_in_the_profile_and_shares_are_fractions() -> None:
    shares = stage_shares(shared_model(), TEXTS)
    assert set(shares) == set(STAGES)
    # a stage whose function was renamed or moved would show 0 here
    assert all(0.0 < share < 1.0 for share in shares.values()), shares
