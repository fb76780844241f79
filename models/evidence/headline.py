"""Cues of headline style: how a headline says that it passes a claim on.

Headlines drop the words the cue lexicon looks for. "Report: Amazon to launch a
streaming service", "Canadian soldier shot at war memorial: report", "Vice chief said to
pay $300,000 for dinner", "Macaulay Culkin dead?" each report a claim without asserting
it, and none has "reportedly", "according to" or "is said to". :func:`headline_cues`
finds these forms in an article's headline only (its first line, after a site's
navigation line if there is one) and gives them the lexicon's categories:

* ``secondhand``: the headline is credited to a report ("Report: …", "…: report",
  "… - report", "… (report)", "…: Iraqi, Kurdish media reports");
* ``hedged_attribution``: credited to a source ("Police: …", "…: attorney",
  "…, U.S. official says"), or "said to" / "said" without their verb ("Apple said to
  plan …", "Fighter said abducted by …");
* ``unverified``: the headline asks ("ISIS leader dead?") or hedges ("apparently",
  "possibly").

A line is a headline when it is at most :data:`MAX_HEADLINE_CHARS` characters and does
not end a sentence with a period (a body's first paragraph does). Plain string work on
that one bounded line: no regular expression, constant cost per article.
"""

from __future__ import annotations

from bisect import bisect_right

from models.evidence.lexicon import word_set
from models.evidence.spans import Cue

MAX_HEADLINE_CHARS = 300
_NAVIGATION_SEPARATORS = (" - ", " | ", " \u203a ", " \u00bb ", " > ", " / ", " \u2013 ")
_NAVIGATION_MAX_CHARS = 120
_MAX_CREDIT_WORDS = 4  # "Iraqi, Kurdish media reports", "U.S. official says"

REPORT_WORDS = word_set("report reports")
SOURCE_WORDS = word_set(
    "source sources official officials police attorney attorneys lawyer lawyers analyst "
    "analysts expert experts witness witnesses insider insiders media intel intelligence "
    "spokesman spokeswoman spokesperson investigators prosecutors authorities monitor "
    "government ministry family relatives aide aides pentagon kremlin military army "
    "doctors scientists researchers activists rebels residents"
)
SAYS_WORDS = word_set("says say")
HEDGE_WORDS = word_set("apparently possibly probably seemingly")
APPEAR_WORDS = word_set("appears appear appeared")
# A question that starts with these asks for an explanation or about the future
# ("What will it take…?", "Will Twitter be next?"), not whether a claim is true.
_OPEN_QUESTION_WORDS = word_set(
    "what why how when where who whom whose which will would can could should shall may "
    "might must right"
)
_CLAUSE_SEPARATORS = (": ", "; ", " - ", " -- ", " \u2013 ", " \u2014 ")
# Words after "said to" that make it "said to someone", not "said to <verb>".
_SAID_TO_OBJECTS = word_set(
    "the a an this that these those him her them us me you it his its their our your my "
    "reporters reporter police officials journalists friends fans congress parliament"
)
_CLOSING = "\"'\u201d\u2019)]!*"  # what may follow a headline's last word
# Where a headline's credit starts: "…: report", "… - report", "… (report)"; and a
# comma only before "<source> says".
_CREDIT_SEPARATORS = (": ", " - ", " -- ", " \u2013 ", " \u2014 ", " (", " [")
_SAYS_SEPARATORS = (*_CREDIT_SEPARATORS, ", ")


def is_navigation_line(line: str) -> bool:
    """A site's navigation line ("Iraq News - Local News - Baghdadpost"), not a headline:
    short, no sentence end, two or more separators."""
    line = line.strip()
    if not line or len(line) > _NAVIGATION_MAX_CHARS or line[-1] in ".!?\"\u201d":
        return False
    return sum(line.count(separator) for separator in _NAVIGATION_SEPARATORS) >= 2


def headline_bounds(text: str) -> tuple[int, int] | None:
    """``(start, end)`` of the headline line of ``text`` (see the module doc), or None."""
    start = 0
    for _ in range(2):  # the first line, or the one after a navigation line
        while start < len(text) and text[start].isspace():
            start += 1
        newline = text.find("\n", start, start + MAX_HEADLINE_CHARS + 1)
        end = newline if newline >= 0 else len(text)
        line = text[start:end]
        if not is_navigation_line(line):
            break
        start = end
    else:
        return None
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or end - start > MAX_HEADLINE_CHARS:
        return None
    if text[start:end].rstrip(_CLOSING).endswith("."):
        return None  # a sentence of a body, not a headline
    return start, end


def _words(part: str) -> list[str]:
    return [w.strip(",;\"'\u201c\u201d\u2018\u2019()[]") for w in part.split()]


def _tail(line: str, separators: tuple[str, ...]) -> tuple[int, int, list[str]] | None:
    """The last part of ``line`` after one of ``separators``: its span and words."""
    tail_end = len(line.rstrip(_CLOSING + " "))
    cut = max(line.rfind(separator, 0, tail_end) for separator in separators)
    if cut < 0:
        return None
    tail_start = cut + 1
    while tail_start < tail_end and not line[tail_start].isalnum():
        tail_start += 1
    words = _words(line[tail_start:tail_end])
    if not 0 < len(words) <= _MAX_CREDIT_WORDS:
        return None
    return tail_start, tail_end, [word.lower() for word in words]


def _credit(line: str) -> tuple[str, int, int] | None:
    """The category and ``(start, end)`` in ``line`` of a credit: a first part before a
    colon ("Report", "US officials") or a last part after a separator ("report",
    "attorney", "U.S. official says") of a few words naming a report or a source."""
    first = line.split(maxsplit=1)[0] if line.strip() else ""
    for dash in ("\u2014", "\u2013", "--"):  # "Report\u2014Jose Canseco …"
        word = first.split(dash, 1)[0]
        if word != first and word.lower() in REPORT_WORDS:
            return "secondhand", 0, len(word)
    colon = line.find(": ")
    if colon > 0:
        words = _words(line[:colon])
        if 0 < len(words) <= _MAX_CREDIT_WORDS:
            last = words[-1].lower()
            if last in REPORT_WORDS:
                return "secondhand", 0, colon
            if last in SOURCE_WORDS:
                return "hedged_attribution", 0, colon
    tail = _tail(line, _CREDIT_SEPARATORS)
    if tail is not None:
        start, end, words = tail
        if words[-1] in REPORT_WORDS:
            return "secondhand", start, end
        if words[-1] in SOURCE_WORDS:
            return "hedged_attribution", start, end
    tail = _tail(line, _SAYS_SEPARATORS)
    if tail is not None:
        start, end, words = tail
        if len(words) >= 2 and words[-1] in SAYS_WORDS and words[-2] in SOURCE_WORDS:
            return "hedged_attribution", start, end
    return None


def is_question(cue: Cue) -> bool:
    """A headline's question cue ("Are rumors of the Apple Watch true?"): it stands for the
    sentence's form, not for words in it, so a lexicon cue inside it ("rumors") does not
    make it a double count (the only headline cue whose span ends with its "?")."""
    return cue.text.rstrip(_CLOSING).endswith("?")


def _asks_whether(line: str) -> bool:
    """A headline that asks whether something is so ("Macaulay Culkin dead?", "Was the
    Batmobile stolen?"), not what, why or what will be: the question is the part after
    the last colon or dash, and none of its clauses opens with :data:`_OPEN_QUESTION_WORDS`."""
    if not line.rstrip(_CLOSING).endswith("?") or not any(c.isalnum() for c in line):
        return False
    after = max(
        (line.rfind(separator) + len(separator) for separator in _CLAUSE_SEPARATORS
         if separator in line),
        default=0,
    )
    for clause in line[after:].split(", "):
        words = clause.split(maxsplit=1)
        first = words[0].strip("\"'\u201c\u2018(?!").lower() if words else ""
        if first.split("'")[0].split("\u2019")[0] in _OPEN_QUESTION_WORDS:
            return False
    return True


def headline_cues(text: str, starts: list[int]) -> list[Cue]:
    """The headline-style cues of ``text`` (``starts``: its sentence starts), in order.
    No sentence of a headline ends with a period ("Weaponized Ebola? ISIS militants
    said to …" is one): a line with one is a body's paragraph."""
    bounds = headline_bounds(text)
    if bounds is None:
        return []
    start, end = bounds
    first = bisect_right(starts, start) - 1
    inside = starts[first + 1 : bisect_right(starts, end - 1)]
    if any(text[start:at].rstrip().rstrip(_CLOSING).endswith(".") for at in inside):
        return []
    line = text[start:end]
    found: list[tuple[str, int, int]] = []
    credit = _credit(line)
    if credit is not None:
        found.append(credit)
    lower = line.lower()
    at = lower.find("said to ")
    while at >= 0:
        after = lower[at + 8 :].split(maxsplit=1)
        if (at == 0 or not lower[at - 1].isalnum()) and after and after[0] not in _SAID_TO_OBJECTS:
            found.append(("hedged_attribution", at, at + 7))
            break
        at = lower.find("said to ", at + 1)
    words = _word_offsets(line)
    for number, (offset, word) in enumerate(words):
        lowered = word.lower()
        if lowered in HEDGE_WORDS:
            found.append(("unverified", offset, offset + len(word)))
        elif (lowered in APPEAR_WORDS and number + 1 < len(words)
              and words[number + 1][1].lower() == "to"):
            found.append(("unverified", offset, words[number + 1][0] + 2))
        elif (lowered == "said" and 0 < number < len(words) - 1
              and _is_participle(words[number + 1][1])):
            found.append(("hedged_attribution", offset, offset + 4))  # "said abducted"
    if _asks_whether(line):
        found.append(("unverified", 0, len(line)))
    cues = []
    for category, a, b in sorted(found, key=lambda item: item[1]):
        # a cue lies in one sentence: the one its last character is in ("Set? Report
        # claims … Responsible?" asks in its last sentence)
        index = bisect_right(starts, start + b - 1) - 1
        a = max(a, starts[index] - start)
        if text[start + a : start + b].strip():
            cues.append(Cue(text[start + a : start + b], category, start + a, start + b, index))
    return cues


_PUNCTUATION = ",;:\"'\u201c\u201d\u2018\u2019()[]?!"


def _is_participle(word: str) -> bool:
    """A regular past participle ("abducted", "identified"): headlinese "X said killed"
    is "X is said to have been killed"."""
    return len(word) > 4 and word.isalpha() and word.lower().endswith("ed")


def _word_offsets(line: str) -> list[tuple[int, str]]:
    """Each word of ``line`` without the punctuation around it, and where it starts."""
    out, at = [], 0
    for word in line.split():
        at = line.index(word, at)
        lead = len(word) - len(word.lstrip(_PUNCTUATION))
        out.append((at + lead, word.strip(_PUNCTUATION)))
        at += len(word)
    return out
