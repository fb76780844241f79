"""Who a source is: the party named by an attribution's source span, and what kind it is.

A claimant or a denier must name somebody: a person, an organisation, a media
outlet, or an anonymous but attributed source ("officials", "a spokesman"). A
date, a place in a prepositional phrase, a common noun ("confrontation"), a
sentence opener ("However", "Meanwhile") or a clause ("ISIS has captured a …") is
never a party. Pure string work over short spans (capped), no regex backtracking.
"""

from __future__ import annotations

from functools import lru_cache

from models.evidence.lexicon import WORD, word_set

MAX_PARTY_WORDS = 8
_SPAN_CHARS = 200  # longer source spans are cut before they are looked at

PRONOUNS = word_set("he she they it we i you him her them us")
_DETERMINERS = word_set("the a an this that these those its his her their our")
_TIME_WORDS = word_set(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight "
    "tomorrow earlier later last next week month year morning evening afternoon night "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec again also then now still"
)
# Words after which a source span stops naming its party ("the coalition fighting
# against ISIS in Syria", "Col. Sean Ryan, a spokesperson for …").
_PHRASE_BREAKS = word_set(
    "fighting who which that in on at from for with after before during when while "
    "where whose since and or"
)
_MEDIA = word_set(
    "news times post tv television radio channel network daily weekly newspaper magazine "
    "agency press journal herald tribune telegraph guardian gazette website site blog "
    "reuters cnn bbc afp ap voa msnbc fox nbc cbs abc npr bloomberg politico axios wire "
    "reporter reporters correspondent editor outlet tabloid voice"
)
_ORGANISATIONS = word_set(
    "coalition ministry government administration police army military forces force "
    "company department office council party committee union commission court "
    "campaign embassy agency authority authorities militia group brigade organization "
    "organisation institute university foundation bank board senate congress house "
    "white pentagon kremlin un nato fbi cia"
)
_ANONYMOUS = word_set(
    "officials official sources source spokesman spokeswoman spokesperson spokesmen "
    "spokeswomen spokespeople witnesses residents experts analysts critics observers "
    "insiders aides diplomats investigators activists researchers scientists people someone"
)
_TITLES = word_set("mr mrs ms dr col gen lt sgt capt sen rep gov prof president minister")
# Words that make a phrase an occasion or a document, not a party ("a press conference").
_NOT_PARTIES = word_set(
    "conference statement interview report reports video footage email letter post tweet "
    "briefing speech article story release meeting"
)
# Places that are never a party alone ("in Syria and Iraq Monday denied" is not Iraq
# denying). An upper-case acronym (US, UK, UN) names a government or body and is kept.
_PLACES = word_set(
    "iraq iran syria israel gaza lebanon jordan egypt libya yemen turkey russia ukraine china "
    "japan korea india pakistan afghanistan america europe africa asia germany france italy "
    "spain britain england scotland ireland canada mexico brazil australia london paris "
    "washington moscow beijing baghdad mosul damascus tehran kabul jerusalem nineveh anbar "
    "texas california florida york"
)
_LEAD_INS = word_set("by according to from via")
# Sentence openers a tagger can leave at the front of a source span ("However", "And
# despite …", "On 6 November"): dropped from the front, never a party alone.
_OPENERS = word_set(
    "and but or nor so yet however meanwhile perhaps indeed sure even still also then now "
    "instead moreover furthermore although though while if when whether as on in at until "
    "after before since despite what there here thus therefore nonetheless nevertheless "
    "besides no not just only once because how why with without about against among like "
    "unlike given"
)
_DROPPED_IN_FRONT = _LEAD_INS | _OPENERS | {","}
# Quantifiers that point at nobody in particular ("Some say", "Many believe").
_QUANTIFIERS = word_set("some several many most others all both few each everyone everybody")
# Verbs that end the phrase naming a party ("ISIS has captured …", "Analysts say …").
_VERB_BREAKS = word_set(
    "has have had was were is are be been being will would could should can may might must "
    "did does do said says say told tells denied denies deny claimed claims insisted insists "
    "added adds noted notes stated states wrote writes reported argued argues maintains "
    "maintained believes believed thinks warned warns suggested suggests acknowledged "
    "admitted confirmed explained announced"
)
_DETERMINER_END = word_set("the a an these those this that his her their its our my your such")


def _words(text: str) -> list[str]:
    return WORD.findall(text[:_SPAN_CHARS])


@lru_cache(maxsize=8192)  # pure; sources repeat within and across articles
def party_name(span_text: str) -> str | None:
    """The party a source span names, trimmed to its head phrase, or None if it names nobody.

    "The US-led coalition fighting against ISIS in Syria and Iraq" → "US-led
    coalition"; "Col. Sean Ryan, a spokesperson for the US-led coalition" → "Col.
    Sean Ryan"; "Monday" → None; "confrontation" → None; "he" → None (a pronoun is
    resolved by the caller).
    """
    words = span_text[:_SPAN_CHARS].replace(",", " , ").split()
    while words and _bare(words[0]) in _DROPPED_IN_FRONT:
        words.pop(0)  # "by, Voice of America", "according to Reuters", "However, …"
    head = " ".join(words).split(" , ")[0].strip(" ,\t\n\"'\u201c\u201d\u2018\u2019()")
    kept: list[str] = []
    for token in head.split():
        if kept and _ends_phrase(kept[-1], token):
            break
        kept.append(token)
    while kept and kept[0].lower() in _DETERMINERS:
        kept.pop(0)
    while kept and (_bare(kept[-1]) in _TIME_WORDS or _is_adverb(kept[-1])):
        kept.pop()  # "Iraq Monday", "the Department flatly"
    kept = kept[:MAX_PARTY_WORDS]
    name = " ".join(kept).strip(" ,;:")
    return name if name and party_kind(name) is not None else None


def _bare(token: str) -> str:
    return token.strip(".,;:\"'\u201c\u201d\u2018\u2019()").lower()


def _is_adverb(token: str) -> bool:
    return token.islower() and token.endswith("ly")


def _ends_phrase(previous: str, token: str) -> bool:
    """True if ``token`` no longer belongs to the phrase that names the party.

    It does at a clause word ("who", "in", "fighting"), at "of" after a common noun
    ("head of IMIS"; "Voice of America" goes on), at a verb ("ISIS has captured",
    "Analysts say"), and at a lower-case participle right after a name ("ISIS released
    images", "Mrs. Clinton facing"; "the alleged gunman" and "Israel's ruling party" go
    on, their participle following a determiner or a possessive)."""
    bare, before = _bare(token), _bare(previous)
    if bare in _PHRASE_BREAKS or bare in _VERB_BREAKS:
        return True
    if bare == "of":
        return previous.islower()
    if before in _ANONYMOUS and token.islower() and not _names_a_body(bare):
        return True  # "Jordanian officials cast doubt", "officials familiar with"
    participle = token.islower() and len(bare) > 4 and bare.endswith(("ed", "ing"))
    return (
        participle
        and before not in _DETERMINER_END | _QUANTIFIERS
        and not before.endswith(("'s", "\u2019s"))
    )


def _capitalised(word: str) -> bool:
    """ "Ryan", and "al-Shabaki" too (a lower-case particle before a hyphen)."""
    return word[0].isupper() or any(part[:1].isupper() for part in word.split("-")[1:])


@lru_cache(maxsize=8192)
def party_kind(name: str) -> str | None:
    """``person``, ``organisation``, ``media``, ``anonymous`` or ``pronoun`` — or None
    when ``name`` is not a party at all (a date, a number, a common noun)."""
    words = _words(name)
    if not words:
        return None
    lower = [word.lower() for word in words]
    first = lower[0].replace("\u2019", "'").split("'")[0]  # "it's", "I'll": the pronoun
    if len(words) == 1 and first in PRONOUNS and (words[0] == "I" or not words[0].isupper()):
        return "pronoun"
    if any(word in _NOT_PARTIES and not (word in _MEDIA and i > 0 and _capitalised(words[i]))
           for i, word in enumerate(lower)):
        return None  # "a press conference", "a Facebook post"; "The Washington Post" is one
    if lower[0] in _OPENERS or (len(words) == 1 and lower[0] in _QUANTIFIERS):
        return None  # "However", "Some": nobody in particular
    if not _capitalised(name.split()[0]) and not _names_a_body(lower[-1]):
        return None  # "matter how many times the Internet": a clause, not a name
    if len(lower) == 1 and lower[0] in _PLACES and not words[0].isupper():
        return None
    if all(word in _TIME_WORDS or word.isdigit() for word in lower):
        return None
    if any(word in _MEDIA for word in lower):
        return "media"
    tokens = [token.strip(".,;:\"'()") for token in name.split()]
    capitalised = [token for token in tokens if token and _capitalised(token)]
    acronym = any(len(word) >= 2 and word.isupper() for word in words)
    if any(word in _ORGANISATIONS for word in lower) or acronym:
        return "organisation"
    if len(capitalised) >= 2 or (capitalised and lower[0] in _TITLES):
        return "person"
    if any(word in _ANONYMOUS for word in lower):
        return "anonymous"
    if capitalised and len(tokens) == 1:
        return "person"  # a surname alone: "Anzi said"
    return None


def _names_a_body(word: str) -> bool:
    """True if ``word`` can head a phrase that names a party in lower case ("officials",
    "local television", "the ministry")."""
    word = word.removesuffix("'s").removesuffix("\u2019s")
    return word in _ANONYMOUS or word in _ORGANISATIONS or word in _MEDIA


def is_named(name: str | None) -> bool:
    """True if ``name`` is a party a reviewer can act on (not a pronoun, not nobody)."""
    return name is not None and party_kind(name) not in (None, "pronoun")


def _clause_before(text: str, sentence_start: int, cue_start: int) -> tuple[int, str]:
    """(offset, text) of the clause before a cue: at most ``_SPAN_CHARS`` back, not before
    the sentence start, and after any closing quote, semicolon or colon in it."""
    offset = max(sentence_start, cue_start - _SPAN_CHARS)
    before = text[offset:cue_start]
    for mark in ("\u201d", '"', ";", ":"):
        cut = before.rfind(mark)
        if cut >= 0:
            offset += cut + 1
            before = before[cut + 1 :]
    return offset, before


def subject_party(text: str, sentence_start: int, cue_start: int) -> str | None:
    """The party named as the subject of a cue verb, when the tagger gave it no source:
    the head of the clause before the cue ("The US-led coalition fighting against ISIS
    in Syria and Iraq Monday denied" → "US-led coalition"), after any closing quote.
    None for a cue used as a noun ("the claims") or a subject that names nobody."""
    _, before = _clause_before(text, sentence_start, cue_start)
    words = _words(before)
    if not words or words[-1].lower() in _DETERMINER_END:
        return None
    return party_name(before.strip())


def subject_span(text: str, sentence_start: int, cue_start: int) -> tuple[int, int] | None:
    """Where :func:`subject_party`'s name stands in ``text`` (start, end), or None when
    there is no such party or its name is not written as one run of the text (a name
    broken over a line)."""
    name = subject_party(text, sentence_start, cue_start)
    if name is None:
        return None
    offset, before = _clause_before(text, sentence_start, cue_start)
    at = before.find(name)
    return None if at < 0 else (offset + at, offset + at + len(name))


_BE_WORDS = word_set("is are was were be been being")
_AGENT_WORDS = 4  # words a passive cue's "by" may come after ("was denied on Monday by")


def agent_party(text: str, cue_start: int, cue_end: int, sentence_end: int) -> str | None:
    """The party a passive cue names after "by": "The claim was denied by the US-led
    coalition on Monday" → "US-led coalition". The cue must end in a participle
    ("-ed", "-en", "-wn") that a form of "be" precedes, in the cue or just before it
    ("was flatly denied"), and "by" must follow within :data:`_AGENT_WORDS` words, in
    the same clause. None otherwise, or when the phrase after "by" names nobody."""
    cue_words = _words(text[cue_start:cue_end])
    if not cue_words or not cue_words[-1].lower().endswith(("ed", "en", "wn")):
        return None
    before = [w.lower() for w in _words(text[max(0, cue_start - 40) : cue_start])][-2:]
    helpers = [w.lower() for w in cue_words[:-1]] + before
    if not any(word in _BE_WORDS for word in helpers):
        return None
    after = text[cue_end : min(sentence_end, cue_end + _SPAN_CHARS)]
    clause = after[: min((at for at in map(after.find, ",;:\u201c\u201d\"") if at >= 0),
                         default=len(after))]
    words = clause.split()
    for index, word in enumerate(words[: _AGENT_WORDS + 1]):
        if word.lower() == "by":
            phrase = " ".join(words[index + 1 :]).rstrip("!?")
            if phrase.endswith(".") and "." not in phrase.rsplit(" ", 1)[-1][:-1]:
                phrase = phrase[:-1]  # the sentence's period, not "U.S."'s
            name = party_name(phrase)
            return name if is_named(name) else None
    return None


def agent_span(text: str, cue_start: int, cue_end: int,
               sentence_end: int) -> tuple[int, int] | None:
    """Where :func:`agent_party`'s name stands in ``text`` (start, end), or None."""
    name = agent_party(text, cue_start, cue_end, sentence_end)
    if name is None:
        return None
    at = text.find(name, cue_end, min(sentence_end, cue_end + _SPAN_CHARS))
    return None if at < 0 else (at, at + len(name))
