"""French and Spanish time frames read through the English grammar's words (pure).

A phrase in French or Spanish is lower-cased, its accents dropped ("février" is "fevrier"), and
its time-frame words replaced by the English words of the same meaning ("d'ici fin 2000" reads as
"by end 2000", "primer semestre de 2000" as "first half 2000"); the grammar then reads that. The
words it does not know stay as written, and every position of the English text leads back to the
original words, so labels, events and reasons quote the phrase as the plan wrote it.

Each language's vocabulary is its own module (``words_fr``, ``words_es``). ``detect`` guesses the
language of one phrase and ``detect_plan`` that of a plan from a few marker words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

LANGUAGES = ("en", "fr", "es")

# Accented letters become their plain letter, one character for one, so positions stay put.
_PLAIN = {ord(c): unicodedata.normalize("NFD", c)[0] for c in "àâäáãåéèêëíìîïóòôöõúùûüñçýÿ"}
_PLAIN.update({ord("œ"): "o", ord("æ"): "a", ord("º"): "o", ord("ª"): "a", ord("°"): "o", ord("ᵉ"): "e", ord("ʳ"): "r"})
_PLAIN.update({ord(c): "'" for c in "\u2018\u2019\u00b4`"})
_PLAIN.update({ord(c): '"' for c in "«»"})
_PLAIN.update({ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_PLAIN.update({ord(c): " " for c in "\u00a0\u202f\u2009"})


def _byte_table(mapping: Mapping[int, str]) -> bytes:
    """``mapping``'s one-character replacements of the Latin-1 characters, as a table for ``bytes.translate``."""
    table = bytearray(range(256))
    for key, value in mapping.items():
        if key < 256:
            table[key] = ord(value)
    return bytes(table)


_PLAIN_BYTES = _byte_table(_PLAIN)


def translated(text: str, table: bytes, mapping: Mapping[int, str]) -> str:
    """``text.translate(mapping)``, a tenth of the cost when every character is Latin-1 (``table`` is
    ``mapping`` as ``_byte_table`` gives it): ``str.translate`` looks each character up in a dict."""
    try:
        return text.encode("latin-1").translate(table).decode("latin-1")
    except UnicodeEncodeError:
        return text.translate(mapping)


def plain(text: str) -> str:
    """Return ``text`` lower-cased without accents, of the same length when lower-casing keeps it."""
    return translated(text.lower(), _PLAIN_BYTES, _PLAIN)


def unaccented(low: str) -> str:
    """``plain`` of a phrase already lower-cased."""
    return translated(low, _PLAIN_BYTES, _PLAIN)


# ---------------------------------------------------------------- detection

_WORDS = re.compile(r"[a-z]+'?")
_EN_WORDS = """
    by the of end and or every annually january february april june july august september october
    november december first second half quarter year years month months within until from to
    ongoing continuous continuously linked before after during starting biennially quarterly
    monthly early late mid next completed
"""
_EN_MARKERS = frozenset(_EN_WORDS.split())

# Words of the French or Spanish vocabulary that English time frames use too
_ENGLISH_WORDS = """
    sept continue final programme administration base non plus suite reception occasion minimum dec
    mis tant como con por para este sea parte fin
"""
_ENGLISH_TOO = frozenset(_ENGLISH_WORDS.split())


def _vocabulary_words(words: ModuleType) -> set[str]:
    return {w.rstrip("'") for key in words.PHRASES for w in _WORDS.findall(key)}


def _markers(words: ModuleType, other: ModuleType) -> frozenset[str]:
    """The language's marker words, and the words of its vocabulary that neither the other language
    nor the English it is read as uses ("d'ici", "tardar"; not "session" nor "semestre")."""
    english = {w for value in (*words.PHRASES.values(), *other.PHRASES.values()) for w in _WORDS.findall(value)}
    own = _vocabulary_words(words) - _vocabulary_words(other) - english - _EN_MARKERS - _ENGLISH_TOO
    return frozenset((words.MARKERS - _ENGLISH_TOO) | {w for w in own if len(w) > 2})


def _words(language: str) -> ModuleType:
    """The vocabulary module of "fr" or "es", imported on first use (English plans never load it)."""
    if language == "fr":
        from engine.timeframe import words_fr

        return words_fr
    from engine.timeframe import words_es

    return words_es


@dataclass(frozen=True, slots=True)
class _Markers:
    fr: frozenset[str]
    es: frozenset[str]
    foreign: frozenset[str]  # the marker words of either language that English does not use
    foreign_bytes: frozenset[bytes]  # those of them in ASCII, encoded


@cache
def _marks() -> _Markers:
    """The marker words, built on the first phrase whose language is guessed (not at import)."""
    fr, es = _words("fr"), _words("es")
    marks_fr, marks_es = _markers(fr, es), _markers(es, fr)
    foreign = (marks_fr | marks_es) - _EN_MARKERS
    foreign |= {w.rstrip("'") for w in foreign}  # "jusqu'a" is split into "jusqu" and "a"
    return _Markers(marks_fr, marks_es, foreign, frozenset(w.encode() for w in foreign if w.isascii()))


_SEPARATORS = b"',;:.()[]/-\"!?0123456789"
_BYTE_SPACES = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
_SPACES = str.maketrans({c: " " for c in "'’‘`,;:.()[]/-–—‐→“”\"!?•…\u00a0\u202f0123456789"})
_SPACES_BYTES = _byte_table(_SPACES)
# Letters that only one of the two languages writes ("à", "è", "ç" French; "ñ", "á", "í", "ó" Spanish).
_FR_LETTERS = frozenset("àèùâêîôûçëïœ")
_ES_LETTERS = frozenset("ñáíóú¿¡")


def _score(words: Iterable[str]) -> dict[str, int]:
    score = {"en": 0, "fr": 0, "es": 0}
    marks = _marks()
    for w in words:
        score["en"] += w in _EN_MARKERS
        score["fr"] += w in marks.fr
        score["es"] += w in marks.es
    return score


def _letters(text: str, score: dict[str, int]) -> dict[str, int]:
    if not text.isascii():
        low = set(text.lower())
        score["fr"] += 2 * len(low & _FR_LETTERS)
        score["es"] += 2 * len(low & _ES_LETTERS)
    return score


def _choose(score: Mapping[str, int]) -> str:
    best = max(score["fr"], score["es"])
    if best == 0 or score["en"] >= best:
        return "en"
    return "es" if score["es"] > score["fr"] else "fr"


_GUESSES: dict[str, str] = {}


def detect(text: str) -> str:
    """Return "en", "fr" or "es": the language whose marker words the phrase holds most (English on a tie)."""
    got = _GUESSES.get(text)
    if got is None:  # kept per phrase (4,096 at most): a plan's phrases repeat
        if len(_GUESSES) >= 4096:
            _GUESSES.clear()
        got = _GUESSES[text] = _guess(text)
    return got


def _guess(text: str) -> str:
    if text.isascii():  # most English phrases stop here, at the cost of a few byte-string methods
        if _marks().foreign_bytes.isdisjoint(text.lower().encode().translate(_BYTE_SPACES).split()):
            return "en"
    elif (words := translated(text.lower(), _SPACES_BYTES, _SPACES)).isascii() and _marks().foreign.isdisjoint(
        words.split()
    ):
        return "en"  # an English phrase with a dash or quotes from a word processor
    return _choose(_letters(text, _score(_WORDS.findall(plain(text)))))


def detect_plan(texts: Iterable[str]) -> str:
    """Return the language of a plan from the words of its time frames (and titles), English on a tie."""
    total = {"en": 0, "fr": 0, "es": 0}
    for text in texts:
        for lang, n in _letters(text, _score(_WORDS.findall(plain(text)))).items():
            total[lang] += n
    return _choose(total)


# ---------------------------------------------------------------- the English words of a phrase


class English:
    """A phrase's English words, and where each replaced piece of them came from in the phrase."""

    __slots__ = ("ends", "his", "los", "starts", "text")

    def __init__(self, text: str, starts: list[int], ends: list[int], los: list[int], his: list[int]) -> None:
        self.text = text
        self.starts, self.ends = starts, ends  # where each replaced piece starts and ends in ``text``
        self.los, self.his = los, his  # the phrase's words it replaced

    def back(self, i: int, keep: bool) -> int:
        """The position in the phrase of position ``i`` of the English text.

        Inside words that stand for several of the phrase's, ``keep`` gives their start (a date's
        own words: "fin" of "d'ici fin"), else their end ("vinculado al" before an event's words).
        """
        k = bisect_right(self.starts, i) - 1
        if k < 0:
            return i
        if i < self.ends[k]:
            return self.los[k] if keep or i == self.starts[k] else self.his[k]
        return self.his[k] + i - self.ends[k]


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    words: re.Pattern[str]  # every key of the vocabulary, "de"-like and "à"-like words and ordinal numbers
    # what a matched key stands for (English words, or "\x00of" ...), by its words with single spaces: the
    # first whose words ahead are there (a key that holds only before a year, a day or a month goes first)
    # (the action itself when the key needs nothing ahead)
    actions: Mapping[str, str | tuple[tuple[re.Pattern[str] | None, str], ...]]
    date_next: re.Pattern[str]  # a year, a day or a month's name next
    to_words: frozenset[str]


_OF, _TO = "\x00of", "\x00to"
_Node = dict[str, Any]  # a letter tree: letter -> subtree, "" -> the ends of the keys that end there
_End = tuple[str, "re.Pattern[str] | None", str]  # the pattern after the key, the words it needs ahead, its action


def _vocabulary(words: ModuleType) -> _Vocabulary:
    phrases: dict[str, str] = words.PHRASES
    tree: _Node = {}
    keys = [*phrases.items(), *((w, _OF) for w in words.OF_WORDS), *((w, _TO) for w in words.TO_WORDS)]
    for key, english in keys:
        text, _, ahead = key.partition(" <")
        node = tree
        for c in text:
            node = node.setdefault(c, {})
        ends: list[_End] = node.setdefault("", [])
        apostrophe = key.endswith("'") and english and english not in (_OF, _TO)
        action = english + (" " if apostrophe else "")  # "l'examen" is "the review"
        ahead_words = _ahead(ahead, words.MONTHS)
        ends.append((_key_end(text) + ahead_words, re.compile(ahead_words) if ahead_words else None, action))
    actions: dict[str, str | tuple[tuple[re.Pattern[str] | None, str], ...]] = {}
    for key_text, node_ends in _ends(tree, ""):
        node_ends.sort(key=lambda e: e[1] is None)  # a key that holds only before a year or a day goes first
        if _spaced(key_text) in actions:
            raise ValueError(f"two keys read as {_spaced(key_text)!r}")
        readings = tuple((ahead, action) for _, ahead, action in node_ends)
        actions[_spaced(key_text)] = readings[0][1] if readings[0][0] is None else readings
    pattern = rf"(?<![a-z0-9])(?:{_branches(tree)}|(?P<ordinal>\d{{1,2}})\.?{_ORDINAL_END})"
    months = "|".join(sorted((re.escape(m) for m in words.MONTHS), key=len, reverse=True))
    return _Vocabulary(
        re.compile(pattern),
        actions,
        re.compile(rf"\s*(?:(?:19|20|21)\d\d(?!\d)|\d{{1,2}}(?!\d)|(?:{months})(?![a-z]))"),
        frozenset(words.TO_WORDS),
    )


def _key_end(text: str) -> str:
    """What must follow a key: no letter or digit after a word."""
    return r"(?![a-z0-9])" if text[-1].isalnum() else ""


def _ahead(ahead: str, months: Iterable[str]) -> str:
    """What a key needs ahead: a year, a day or a month for " <year>", " <day>", " <month>"."""
    if ahead == "month>":
        return r"(?=\s+(?:" + "|".join(sorted(months, key=len, reverse=True)) + r")(?![a-z]))"
    return {"": "", "year>": r"(?=\s+(?:19|20|21)\d\d(?!\d))", "day>": r"(?=\s+\d\d?(?!\d))"}[ahead]


def _ends(node: _Node, text: str) -> list[tuple[str, list[_End]]]:
    found = [(text, node[""])] if "" in node else []
    for c, child in node.items():
        if c:
            found += _ends(child, text + c)
    return found


_SPACES_RUN = re.compile(r"\s+")
_APOSTROPHE = re.compile(r"\s*'\s*")


def _spaced(text: str) -> str:
    """A key's words, or the words a key matched, with single spaces and none around an apostrophe."""
    return _APOSTROPHE.sub("'", _SPACES_RUN.sub(" ", text))


def _branches(node: _Node) -> str:
    """The tree as one pattern: at each letter the engine tries a few branches, not every key; a longer key is
    tried before the key it extends ("au plus tard le" before "au plus tard" before "au")."""
    parts = [_LETTER.get(c, re.escape(c)) + _branches(child) for c, child in sorted(node.items()) if c]
    parts += [end for end, _, _ in node.get("", [])]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


_LETTER = {" ": r"\s+", "'": r"\s*'\s*"}
_ORDINAL_END = r"(?:er|ere|re|eme|e|o|a|do|ro|to)\.?(?![a-z0-9])"


@cache
def _vocabulary_of(language: str) -> _Vocabulary:
    """The language's vocabulary, compiled on its first phrase (English plans never pay for it)."""
    return _vocabulary(_words(language))


_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
_PERIOD_WORDS = frozenset(("half", "quarter", "semester", "year", "biennium", "first", "second", "third", "fourth"))
_PERIOD_WORDS |= {"end", "of", "early", "mid", "late"}
# the English months (and their abbreviations) that French and Spanish months are read as
_MONTH_WORDS = """
    january february march april may june july august september october november december jan feb apr jul aug dec
"""
_DATE_WORDS = frozenset(_MONTH_WORDS.split())
# Rhythm words that, after a noun inside a phrase, qualify it ("rapports annuels", "informes anuales")
# (after a date they qualify it; else they give the noun its rhythm: "un bilan annuel" is an annual review)
_ADJECTIVES = {
    "annual": "annually",
    "quarterly": "every quarter",
    "semiannual": "semiannually",
    "monthly": "every month",
    "weekly": "every week",
    "daily": "every day",
    "biennial": "biennially",
    "bimonthly": "every two months",
}
_RANGE_END = re.compile(r"(?<![a-z])(?:a|au|aux|al|hasta|jusqu)(?![a-z])")


_FACTS: dict[str, tuple[str, bool, bool]] = {}


def _facts(words: str) -> tuple[str, bool, bool]:
    """Of English words written: the last one, whether they open a range ("from", "between"), whether they name
    a month; kept per wording (the vocabulary's few hundred, and the ordinal days)."""
    facts = words.rsplit(None, 1)[-1], "from" in words or "between" in words, words in _DATE_WORDS
    if len(_FACTS) < 4096:
        _FACTS[words] = facts
    return facts


def clear_wordings() -> None:
    """Forget the English wordings' facts and the languages guessed (``engine.timeframe.clear_caches``)."""
    _FACTS.clear()
    _GUESSES.clear()


class _Writer:
    """The English text being written, piece by piece."""

    __slots__ = ("done", "ends", "his", "last", "length", "los", "low", "opened", "out", "ranged", "starts")

    def __init__(self, low: str) -> None:
        self.low = low
        self.out: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.los: list[int] = []
        self.his: list[int] = []
        self.length = 0
        self.done = 0  # how much of the phrase is written
        self.last = ""  # the last English word written
        self.opened = False  # a "from", "between" or a month was written: "a", "au" now say "to"
        self.ranged = False  # a "from" or "between" was written

    def put(self, lo: int, hi: int, words: str) -> None:
        if lo > self.done:
            self.out.append(self.low[self.done : lo])
            self.length += lo - self.done
        self.starts.append(self.length)
        self.out.append(words)
        self.length += len(words)
        self.ends.append(self.length)
        self.los.append(lo)
        self.his.append(hi)
        self.done = hi
        if words:
            facts = _FACTS.get(words) or _facts(words)
            self.last = facts[0]
            self.ranged = self.ranged or facts[1]
            self.opened = self.opened or self.ranged or facts[2]

    def before(self, start: int) -> str:
        """The word before ``start``: the English one written there, else the phrase's own."""
        if self.done and not self.low[self.done : start].strip(" ,;:.-"):
            return self.last
        return _last_word(self.low, start)

    def finish(self) -> English:
        self.out.append(self.low[self.done :])
        return English("".join(self.out), self.starts, self.ends, self.los, self.his)


_PLAIN_WORDS = re.compile(r"[a-z]+|\d+")


def _word_char(c: str) -> bool:
    return "a" <= c <= "z" or c.isdecimal()


def _last_word(low: str, end: int) -> str:
    """The last of ``_PLAIN_WORDS.findall(low, 0, end)`` ("" if none), read backwards from ``end``."""
    i = end
    while i > 0 and not _word_char(low[i - 1]):
        i -= 1
    j = i
    same = str.isdecimal if i and low[i - 1].isdecimal() else (lambda c: "a" <= c <= "z")
    while j > 0 and same(low[j - 1]):
        j -= 1
    return low[j:i]


_DIGIT = re.compile(r"\d")


def to_english(low: str, language: str, accented: str = "") -> English:
    """Return the English words of ``low`` (a phrase as ``plain`` gives it) in ``language`` ("fr" or "es").

    ``accented`` is the phrase lower-cased with its accents, where they tell words apart ("dès", "des").
    """
    voc = _vocabulary_of(language)
    w = _Writer(low)
    find, actions = voc.words.search, voc.actions
    pos = 0
    while (m := find(low, pos)) is not None:
        start, pos = m.span()
        if (n := m["ordinal"]) is not None:  # "1er", "2e", "39.º": the ordinal's English ending ("1st april")
            if 0 < (day := int(n)) <= 31:
                w.put(start, pos, f"{day}{_SUFFIX.get(day, 'th')}")
            continue
        key = m[0]
        if (got := actions.get(key)) is None:
            got = actions[_spaced(key)]
        english = got if isinstance(got, str) else _action(got, low, pos)
        if w.ranged and english != _TO and (first := _PLAIN_WORDS.match(low, start)) and first[0] in voc.to_words:
            english, pos = _TO, first.end()  # "du 1er juillet à la fin de ...": this "à" says "to"
        if english == _TO:
            w.put(start, pos, "to" if w.opened or _DIGIT.search(low, 0, start) else "by")
        elif english == _OF:
            if accented[start:pos] == "dès":
                w.put(start, pos, "from")
            else:
                _of(w, voc, low, start, pos)
        elif english in _ADJECTIVES and _after_noun(low, w.done, start):
            if not (w.opened or _DIGIT.search(low)):  # "un bilan annuel": an annual review
                w.put(start, pos, _ADJECTIVES[english])
            # else "mars 2000 pour les rapports annuels", "programa anual de trabajo 2024": no rhythm
        else:
            w.put(start, pos, english)
    return w.finish()


def _action(ends: tuple[tuple[re.Pattern[str] | None, str], ...], low: str, end: int) -> str:
    """What the key that matched up to ``end`` stands for: its first reading whose words ahead are there."""
    for ahead, action in ends:
        if ahead is None or ahead.match(low, end):
            return action
    raise AssertionError("the vocabulary matched a key whose words ahead are not there")


def _after_noun(low: str, done: int, start: int) -> bool:
    """Whether the word just before ``start`` was kept as written (a noun: "rapports annuels")."""
    before = low[done:start].rstrip()
    return bool(before) and before[-1].isalpha()


def _of(w: _Writer, voc: _Vocabulary, low: str, start: int, end: int) -> None:
    """ "de": nothing between a day or a month and a date; "from" before a date; else kept."""
    if voc.date_next.match(low, end) is None:
        return
    last = w.before(start)
    if last.isdigit() or last in _DATE_WORDS or last in _PERIOD_WORDS or not _RANGE_END.search(low, end):
        w.put(start, end, "")  # "30 de abril", "junio de 2000", "la session de novembre 2000"
    else:  # "de janvier à juin 2000", "d'octobre à décembre"
        w.put(start, end, "from " if low[end - 1] == "'" else "from")
