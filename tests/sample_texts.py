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

# Contested claims in two languages the service does not score (CLAIMWATCH_LANGUAGES
# defaults to English): a denial of published allegations in each.
FRENCH = (
    "Le ministère a démenti les allégations publiées mardi par un hebdomadaire, selon "
    "lesquelles des fonctionnaires auraient reçu des pots-de-vin. L'opposition affirme "
    "disposer de documents internes, qui n'ont pas pu être vérifiés."
)
ARABIC = (
    "نفت وزارة الداخلية يوم الثلاثاء ما زعمته صحيفة محلية من أن موظفين تلقوا رشاوى مقابل "
    "إصدار تصاريح الإقامة، وقال متحدث باسم الوزارة إن هذه الادعاءات لا أساس لها."
)
