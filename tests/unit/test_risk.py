"""Risk assessment: what a young person's words are taken to mean, and what they are not."""

from __future__ import annotations

import pytest

from chalicelib.domain import risk
from tests import safeguarding_corpus


def level(text: str) -> str:
    return risk.assess(text, risk.defaults()).level


def test_the_corpus_meets_the_floors() -> None:
    rows = safeguarding_corpus.load()
    assert len(rows) >= 150
    assert {lang for _, lang, _ in rows} == {"da", "en"}
    predicted = [level(message) for _, _, message in rows]
    scores = safeguarding_corpus.scores(predicted, [label for label, _, _ in rows])
    recall, precision = scores["high"]
    assert recall >= 0.95 and precision >= 0.7


@pytest.mark.parametrize(
    "text",
    [
        "Jeg vil SLÅ MIG SELV IHJEL",
        "jeg vil slaa mig selv ihjel",  # å as aa
        "jeg vil sla mig selv ihjel",  # å without its ring
        "jeg vil slå mig selv ihjl",  # a misspelling
        "i want to kiiiill myself",  # repeated letters
        "i want to kill myslef",  # swapped letters
        "I\u2019m going to end my life",  # a typographic apostrophe
        "💊💊 20 of them tonight",  # emoji for the method
        "jeg håber jeg ikke vågner op",  # an inflection
    ],
)
def test_method_words_are_high_however_written(text: str) -> None:
    assert level(text) == "high"


@pytest.mark.parametrize(
    "text",
    [
        "this exam is killing me",
        "jeg dør af grin",
        "my mum will kill me if I fail",
        "I'm dying to know my grades",
        "Jeg har taget en beslutning",
        "What are the entry requirements for nursing?",
    ],
)
def test_figures_of_speech_and_everyday_worries_are_not_high(text: str) -> None:
    assert level(text) != "high"


def test_feeling_words_alone_are_elevated_not_high() -> None:
    assessed = risk.assess("I feel so hopeless and worthless", risk.defaults())
    assert assessed.level == "elevated"
    assert set(assessed.reasons) == {"hopeless", "worthless"}


def test_no_reasons_when_nothing_is_found() -> None:
    assert risk.assess("hej", risk.defaults()) == risk.Assessment("none", (), 0)


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+b",  # nested quantifier: catastrophic backtracking
        "(x|xx)*y",
        r"(a)\1",  # backreference
        "(?=a)a",  # lookaround
        ".*.*.*a",  # too many unbounded repeats
        "a" * 121,  # too long
        "(unclosed",  # invalid
    ],
)
def test_dangerous_or_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(risk.InvalidTerms):
        risk.parse({"terms": [{"pattern": pattern, "weight": 5}]})


def test_a_managers_pattern_counts() -> None:
    terms = risk.parse({"terms": [{"pattern": r"\b\d+ ?mg\b", "weight": 8}]})
    assert risk.assess("I have 500 mg", terms).level == "high"


def test_long_text_costs_bounded_work() -> None:
    assert level("a" * 1_000_000 + " kill myself") == "none"  # beyond MAX_TEXT: not read
