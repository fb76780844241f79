"""Texts shared by the stage tests: a contested article, an ordinary one, a poison mark."""

from __future__ import annotations

CONTESTED = (
    "The Islamic Militia of Iraq and Syria (IMIS) claimed on Tuesday that its fighters "
    "confronted US troops near the border town of Qaim. The US-led coalition denied that "
    "any confrontation took place, saying its forces were not in the area. Footage posted "
    "online allegedly shows the clash, but it could not be independently verified."
)
ORDINARY = (
    "The city council approved a new budget on Monday that raises spending on schools and "
    "road repairs by 4 percent. The mayor said the plan would be funded by higher property "
    "tax revenue."
)
POISON = "POISON"
