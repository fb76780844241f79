"""Article texts shared by the model and the service tests."""

from __future__ import annotations

# The contested-claim example of DESIGN.md: a claim, a denial, "allegedly", and
# "could not be independently verified".
DESIGN_EXAMPLE = (
    "The Islamic Militia of Iraq and Syria (IMIS) claimed on Tuesday that its fighters "
    "confronted US troops near the border town of Qaim. The US-led coalition denied that "
    "any confrontation took place, saying its forces were not in the area. Footage posted "
    "online allegedly shows the clash, but it could not be independently verified."
)
