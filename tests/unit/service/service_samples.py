"""Texts shared by the stage tests: a contested article, an ordinary one, a poison mark."""

from __future__ import annotations

from sample_texts import DESIGN_EXAMPLE

CONTESTED = DESIGN_EXAMPLE  # DESIGN.md's example
ORDINARY = (
    "The city council approved a new budget on Monday that raises spending on schools and "
    "road repairs by 4 percent. The mayor said the plan would be funded by higher property "
    "tax revenue."
)
POISON = "POISON"
