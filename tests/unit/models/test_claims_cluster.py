"""Online claim clustering (models/claims/): hand-made stories, expiry, bounds, ids."""

from __future__ import annotations

import pytest

from models.claims.cluster import MAX_CENTROID_TERMS, ClaimClusterer, cluster_id_for
from models.claims.evaluate import pairwise_scores
from models.claims.represent import MAX_TERMS, claim_terms
from models.claims.weights import OnlineIdf

DAY = 86_400.0

# Two tellings of one claim, in different words and order, and one other story.
BANKSY_A = (
    "Police in London reportedly arrested the street artist Banksy on Tuesday, "
    "according to a report on a satirical website. The arrest of Banksy was claimed "
    "to reveal his real identity. His publicist denied that any arrest took place."
)
BANKSY_B = (
    "Banksy arrested? A website claims London police have unmasked the artist Banksy "
    "after an arrest. Banksy's representatives denied the arrest report, calling it a hoax."
)
SPIDER = (
    "A spider burrowed under the skin of an Australian tourist's stomach during a trip "
    "to Bali, doctors allegedly said. The man claimed the spider lived in his appendix "
    "scar for days."
)
SPIDER_B = (
    "Doctors reportedly removed a tiny spider that had burrowed into a tourist's skin "
    "in Bali; the Australian man said it crawled into his appendix scar."
)


def place(clusterer: ClaimClusterer, article_id: str, text: str, now: float = 0.0) -> str:
    return clusterer.add(article_id, claim_terms(text), now=now).cluster_id


def test_two_tellings_of_a_claim_join_and_another_story_does_not() -> None:
    clusterer = ClaimClusterer()
    a = place(clusterer, "a", BANKSY_A)
    s = place(clusterer, "s", SPIDER)
    b = place(clusterer, "b", BANKSY_B)
    s2 = place(clusterer, "s2", SPIDER_B)
    assert a == b
    assert s == s2
    assert a != s


def test_membership_counts_size_and_distinct_sources() -> None:
    clusterer = ClaimClusterer()
    first = clusterer.add("a", claim_terms(BANKSY_A), now=10.0, source="paper.example")
    second = clusterer.add("b", claim_terms(BANKSY_B), now=20.0, source="wire.example")
    third = clusterer.add("c", claim_terms(BANKSY_B + " Update."), now=30.0, source="wire.example")
    assert first.new_cluster and first.similarity == 1.0 and first.size == 1
    assert not second.new_cluster and 0.0 < second.similarity < 1.0
    assert (third.size, third.sources, third.first_seen) == (3, 2, 10.0)
    assert set(third.to_dict()) == {
        "cluster_id",
        "article_id",
        "source",
        "similarity",
        "first_seen",
        "size",
        "sources",
    }


def test_a_cluster_not_joined_within_the_window_expires() -> None:
    clusterer = ClaimClusterer(window_s=7 * DAY)
    old = place(clusterer, "a", BANKSY_A, now=0.0)
    assert place(clusterer, "b", BANKSY_B, now=6 * DAY) == old  # joined: window restarts
    assert place(clusterer, "c", BANKSY_B, now=12 * DAY) == old
    later = place(clusterer, "d", BANKSY_A, now=20 * DAY)  # quiet for 8 days: gone
    assert later != old
    assert clusterer.get(old) is None
    assert len(clusterer) == 1


def test_the_cap_drops_the_least_recently_joined_cluster() -> None:
    clusterer = ClaimClusterer(max_clusters=2)
    banksy = place(clusterer, "a", BANKSY_A, now=1.0)
    spider = place(clusterer, "s", SPIDER, now=2.0)
    place(clusterer, "b", BANKSY_B, now=3.0)  # banksy is now the most recent
    place(clusterer, "x", "Parliament passed the annual budget bill on Friday.", now=4.0)
    assert len(clusterer) == 2
    assert clusterer.get(spider) is None
    assert clusterer.get(banksy) is not None


def test_same_order_gives_same_ids_and_ids_come_from_the_founder() -> None:
    texts = [("a", BANKSY_A), ("s", SPIDER), ("b", BANKSY_B), ("s2", SPIDER_B)]
    runs = []
    for _ in range(2):
        clusterer = ClaimClusterer()
        runs.append([place(clusterer, i, t) for i, t in texts])
    assert runs[0] == runs[1]
    assert runs[0][0] == cluster_id_for("a")
    assert runs[0][1] == cluster_id_for("s")


def test_a_founder_id_seen_twice_gets_a_fresh_cluster_id() -> None:
    clusterer = ClaimClusterer()
    first = place(clusterer, "same", BANKSY_A)
    second = place(clusterer, "same", SPIDER)
    assert first != second


def test_memory_per_cluster_and_article_is_bounded() -> None:
    words = " ".join(f"word{i} claimed" for i in range(5000))
    terms = claim_terms(words, title="A headline " * 50)
    assert len(terms) <= MAX_TERMS
    clusterer = ClaimClusterer(threshold=0.01)
    for i in range(10):
        other = " ".join(f"w{i}x{j}" for j in range(400))
        clusterer.add(f"a{i}", claim_terms(other + " shared term"), now=0.0)
    for cluster_id in {cluster_id_for(f"a{i}") for i in range(10)}:
        cluster = clusterer.get(cluster_id)
        if cluster is not None:
            assert len(cluster.centroid) <= MAX_CENTROID_TERMS


def test_claim_terms_read_the_title_and_ignore_stop_words() -> None:
    terms = claim_terms("It was said that the thing is so.", title="Volcano erupts in Iceland")
    assert "volcano" in terms and "iceland" in terms
    assert "the" not in terms and "was" not in terms
    assert claim_terms("") == {}


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_a_threshold_outside_0_1_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError):
        ClaimClusterer(threshold=threshold)


def test_pairwise_scores_on_a_hand_counted_case() -> None:
    # truth: {1,2,3} {4}; predicted: {1,2} {3,4}. Same-claim pairs: 12 13 23; said: 12 34.
    scores = pairwise_scores(["x", "x", "x", "y"], ["p", "p", "q", "q"])
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))


def test_online_idf_weighs_a_word_of_every_article_below_a_rare_one() -> None:
    idf = OnlineIdf()
    for i in range(20):
        idf.count({"police": 1.0, f"rare{i}": 1.0})
    weights = idf.weigh({"police": 1.0, "volcano": 1.0})
    assert weights["volcano"] > 2 * weights["police"] > 0
    assert sum(v * v for v in weights.values()) == pytest.approx(1.0)
