"""Claim clustering: group articles that carry the same claim (issue 16).

:mod:`models.claims.represent` turns an article into the words that carry its claim,
:mod:`models.claims.cluster` joins each article, in arrival order, to the best
matching recent cluster, and :mod:`models.claims.evaluate` measures that on FNC-1.
"""
