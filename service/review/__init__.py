"""Reviewer tools: the terminal tail, the review web app, verdicts and their export.

The path of a flagged item: ``consumer`` reads ``articles.flagged`` into the SQLite
``store``; ``app`` serves the queue and article pages (``pages``, ``render``)
behind ``auth``; a decision becomes a ``Verdict`` that ``verdicts`` produces to
``articles.verdicts`` and later exports as labelled training data.
"""
