"""Risk assessment of a citizen's words: weighted terms and patterns, summed into a level.

Why rules and not a model: Crisis Text Line's published experience is that words naming a
*method* (a drug and a dose, "pills", a bridge, a rope) predict imminent risk far better than words
naming a feeling, so method terms weigh more here; figures of speech ("this exam is killing me",
"jeg dør af grin") carry negative weights that cancel the words they contain. Managers maintain
the list (`TermList`, versioned); the defaults ship as data (`risk_terms.json`). The outcome only
ever orders work and alerts people: a human always decides.

Matching copes with case, accents, inflections, misspellings and emoji: text and terms go through
the same `normalise` (casefold; emoji to words from the list's own table; æ/ø/å as ae/oe/aa, so
both spellings match; accents stripped by NFKD; repeated letters collapsed, so "pleeease",
"vaagne" and "vågne" meet), then every term word matches a token exactly, as a prefix (a word
ending in `*`: inflections, compounds) or, for words of 5+ letters, within a small edit distance.
Nothing here logs: a matched term or a message's words never reach a log line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from chalicelib.domain.records import record

Level = Literal["none", "elevated", "high"]
LEVELS: tuple[Level, ...] = ("none", "elevated", "high")
RANK: dict[str, int] = {level: n for n, level in enumerate(LEVELS)}
MAX_TEXT = 5000  # characters assessed of one message: bounds the work a sender can cause
MAX_PATTERN = 120  # characters of one regex pattern
MAX_WORDS = 8  # words of one phrase
MAX_GAP = 1  # other words allowed between two words of a phrase ("take my own life")
_DEFAULTS = Path(__file__).with_name("risk_terms.json")
_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss", "'": "", "\u2019": ""})
_REPEATS = r"(.)\1+"
_TOKEN = r"[a-z0-9]+"
# A group followed by a quantifier, a backreference or a lookaround: the shapes that make a
# regex backtrack catastrophically (or that we have no use for). Refused, not tamed.
_RISKY_REGEX = r"\)[*+?{]|\\[1-9]|\(\?[=!<]|\(\?P="
_UNBOUNDED = r"(?<!\\)[*+]|\{\d*,\}"


PRIORITY_YEARS = 1000


def queue_position(position: str, high: bool) -> str:
    """A waiting case's place in its queue, `<ISO time>#<case id>`, with high risk first: its
    time moved PRIORITY_YEARS back, so it sorts before every ordinary case, high-risk cases
    stay in arrival order among themselves, and the position keeps its shape (cursors,
    indexes). Safe to apply twice; `high=False` undoes it."""
    year = int(position[:4])
    if high == prioritised(position):
        return position
    return f"{year + (-PRIORITY_YEARS if high else PRIORITY_YEARS):04d}{position[4:]}"


def prioritised(position: str) -> bool:
    """Whether a waiting position was put first by `queue_position`."""
    return position[:4].isdigit() and int(position[:4]) < 2000


class InvalidTerms(ValueError):
    """A term list that cannot be used: which entry and why."""


@record
class Term:
    """A phrase (words; `*` at a word's end matches any ending) or a regex `pattern` over the
    normalised text, with its weight (negative for figures of speech) and language."""

    weight: int
    phrase: str | None = None
    pattern: str | None = None
    lang: str = ""

    @property
    def label(self) -> str:
        return self.phrase or f"/{self.pattern}/"


@record
class TermList:
    """What managers maintain: the terms, the emoji table, and the sums that make a level."""

    version: int
    terms: tuple[Term, ...]
    emoji: tuple[tuple[str, str], ...] = ()
    elevated: int = 3
    high: int = 8
    updated_by: str | None = None
    updated_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "thresholds": {"elevated": self.elevated, "high": self.high},
            "emoji": dict(self.emoji),
            "terms": [
                {
                    k: v
                    for k, v in (
                        ("phrase", t.phrase),
                        ("pattern", t.pattern),
                        ("weight", t.weight),
                        ("lang", t.lang or None),
                    )
                    if v is not None
                }
                for t in self.terms
            ],
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }


@record
class Assessment:
    level: Level
    reasons: tuple[str, ...] = ()
    score: int = 0


@record
class Held:
    """What a risk write is conditional on, as its caller read the case: `risk`, only while the
    stored risk is still that one; `inbound_count`, a level not above the stored one only while
    the case has had just that many citizen messages (0: none), so a lowering never lands over
    a message its author did not read. None: no such condition."""

    risk: Risk | None = None
    inbound_count: int | None = None


@record
class Risk:
    """A case's risk as the case JSON shows it: `by` is "rules" or the practitioner's id."""

    level: Level
    reasons: tuple[str, ...] = ()
    by: str = "rules"
    at: str | None = None
    note: str | None = None  # a practitioner's reason for a change
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"level": self.level, "reasons": list(self.reasons), "by": self.by}
        for name in ("at", "note", "acknowledged_by", "acknowledged_at"):
            if getattr(self, name) is not None:
                shown[name] = getattr(self, name)
        return shown

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> Risk | None:
        if not data:
            return None
        return Risk(
            data["level"],
            tuple(data.get("reasons", ())),
            data.get("by", "rules"),
            data.get("at"),
            data.get("note"),
            data.get("acknowledged_by"),
            data.get("acknowledged_at"),
        )


def normalise(text: str, emoji: tuple[tuple[str, str], ...] = ()) -> str:
    """The form both text and terms are matched in (see the module's docstring)."""
    text = text[:MAX_TEXT].replace("\ufe0f", "")
    for symbol, words in emoji:
        if symbol in text:
            text = text.replace(symbol, f" {words} ")
    text = text.casefold().translate(_DANISH)  # ø as oe, æ as ae, å as aa; "don't" as dont
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(_REPEATS, r"\1", text)


def check_pattern(pattern: str) -> re.Pattern[str]:
    """A manager's regex, compiled, or InvalidTerms: too long, invalid, or shaped like one that
    backtracks catastrophically (quantified groups, backreferences, lookarounds, more than two
    unbounded repeats). Patterns match the normalised text, which is at most MAX_TEXT long."""
    if len(pattern) > MAX_PATTERN:
        raise InvalidTerms(f"pattern longer than {MAX_PATTERN} characters")
    if re.search(_RISKY_REGEX, pattern) or len(re.findall(_UNBOUNDED, pattern)) > 2:
        raise InvalidTerms("pattern could backtrack catastrophically (quantified group?)")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise InvalidTerms(f"pattern is not a valid regular expression: {error}") from None


def parse(data: dict[str, Any], version: int = 1) -> TermList:
    """A term list from its JSON (the defaults, or a manager's PUT already schema-checked):
    every pattern compiled and checked, so a list that is stored can always be used."""
    terms = []
    for n, entry in enumerate(data.get("terms", ())):
        phrase, pattern = entry.get("phrase"), entry.get("pattern")
        if (phrase is None) == (pattern is None):
            raise InvalidTerms(f"terms[{n}]: give a phrase or a pattern")
        if pattern is not None:
            try:
                check_pattern(pattern)
            except InvalidTerms as error:
                raise InvalidTerms(f"terms[{n}]: {error}") from None
        if phrase is not None and not 0 < len(_words(phrase, ())) <= MAX_WORDS:
            raise InvalidTerms(f"terms[{n}]: a phrase has 1 to {MAX_WORDS} words")
        terms.append(Term(int(entry["weight"]), phrase, pattern, entry.get("lang", "")))
    thresholds = data.get("thresholds", {})
    elevated, high = int(thresholds.get("elevated", 3)), int(thresholds.get("high", 8))
    if not 0 < elevated <= high:
        raise InvalidTerms("thresholds: 0 < elevated <= high")
    return TermList(
        version=int(data.get("version", version)),
        terms=tuple(terms),
        emoji=tuple(sorted(data.get("emoji", {}).items())),
        elevated=elevated,
        high=high,
        updated_by=data.get("updated_by"),
        updated_at=data.get("updated_at"),
    )


@lru_cache(maxsize=1)
def defaults() -> TermList:
    """The list shipped with the service, used until a manager saves one."""
    return parse(json.loads(_DEFAULTS.read_text(encoding="utf-8")))


def assess(text: str, terms: TermList) -> Assessment:
    """Sum the weights of the terms found in `text`; the sum names the level. A term whose
    words all lie where a heavier term already matched adds nothing (one word is not counted
    twice through its Danish and English spellings); figures of speech always subtract."""
    tokens = re.findall(_TOKEN, normalise(text, terms.emoji))
    if not tokens:
        return Assessment("none")
    flat = " ".join(tokens)
    score, reasons, covered = 0, [], set[int]()
    for term, compiled in _compiled(terms):
        if compiled is not None:
            found = compiled.search(flat)
            if found is None:
                continue
            where = {flat.count(" ", 0, found.start())}
        else:
            words = _words(term.phrase or "", terms.emoji)
            match = _find(tokens, words, fuzzy=term.weight > 0)
            if match is None:
                continue
            where = set(match)
        if term.weight > 0 and where <= covered:
            continue
        covered |= where
        score += term.weight
        if term.weight > 0:
            reasons.append(term.label)
    level: Level = (
        "high" if score >= terms.high else "elevated" if score >= terms.elevated else "none"
    )
    return Assessment(level, tuple(reasons) if level != "none" else (), score)


def higher(a: str | None, b: str | None) -> bool:
    """Whether level `a` is above level `b` (None counts as none)."""
    return RANK.get(a or "none", 0) > RANK.get(b or "none", 0)


@lru_cache(maxsize=8)
def _compiled(terms: TermList) -> tuple[tuple[Term, re.Pattern[str] | None], ...]:
    heaviest_first = sorted(terms.terms, key=lambda t: -t.weight)
    return tuple(
        (t, re.compile(t.pattern) if t.pattern is not None else None) for t in heaviest_first
    )


@lru_cache(maxsize=4096)
def _words(phrase: str, emoji: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """A phrase's words in normalised form; a trailing `*` survives as the prefix mark."""
    return tuple(re.findall(r"[a-z0-9]+\*?", normalise(phrase, emoji)))


def _find(tokens: list[str], words: tuple[str, ...], fuzzy: bool) -> tuple[int, ...] | None:
    """Where the words are, in order, each within MAX_GAP other tokens of the one before."""
    if not words:
        return None
    for start, token in enumerate(tokens):
        if _word_matches(token, words[0], fuzzy):
            rest = _rest(tokens, start + 1, words[1:], fuzzy)
            if rest is not None:
                return (start, *rest)
    return None


def _rest(
    tokens: list[str], at: int, words: tuple[str, ...], fuzzy: bool
) -> tuple[int, ...] | None:
    if not words:
        return ()
    for position in range(at, min(len(tokens), at + MAX_GAP + 1)):
        if _word_matches(tokens[position], words[0], fuzzy):
            rest = _rest(tokens, position + 1, words[1:], fuzzy)
            if rest is not None:
                return (position, *rest)
    return None


@lru_cache(maxsize=65536)
def _word_matches(token: str, word: str, fuzzy: bool = True) -> bool:
    """Exactly, as a prefix (`stem*`), or (`fuzzy`, words of 5+ letters, stems of 6+) within
    one or two edits. Figures of speech match exactly: a misspelt method word must never turn
    into one ("piller" is one letter from "killer")."""
    if word.endswith("*"):
        stem = word[:-1]
        if token.startswith(stem):
            return True
        return (
            fuzzy
            and len(stem) >= 6
            and len(token) >= len(stem)
            and _within(token[: len(stem)], stem, 1)
        )
    if token == word:
        return True
    if not fuzzy or len(word) < 5:
        return False
    return _within(token, word, 1 if len(word) < 8 else 2)


def _within(a: str, b: str, most: int) -> bool:
    """Levenshtein distance (adjacent swaps count one) at most `most`; stops early."""
    if abs(len(a) - len(b)) > most:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        if min(current) > most:
            return False
        previous2, previous = previous, current
    return previous[-1] <= most
