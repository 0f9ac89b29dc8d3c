"""The template set: whole in every language, rendered safely, with the language's own dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import segments, wording
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.wording import TemplateVersion, Wording

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # Friday 21:00 in Copenhagen
MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_the_shipped_templates_hold_every_key_in_every_language_with_known_placeholders():
    assert set(wording.LANGUAGES) >= {"da", "en"}
    assert wording.defaults_problems() == []
    for language in wording.LANGUAGES:
        assert set(wording.DEFAULTS[language]) == set(wording.KEYS)


def test_a_language_missing_a_template_or_using_an_unknown_placeholder_is_refused(monkeypatch):
    broken = {
        "da": {k: v for k, v in wording.DEFAULTS["da"].items() if k != "sms.help_open"},
        "en": {**wording.DEFAULTS["en"], "sms.ack_open": "Hi {first_name}"},
    }
    monkeypatch.setattr(wording, "DEFAULTS", broken)
    problems = wording.defaults_problems()
    assert "da: sms.help_open is missing" in problems
    assert any(p.startswith("en: sms.ack_open: Unknown placeholder {first_name}") for p in problems)


def test_placeholders_are_filled_in_one_pass_and_never_evaluated():
    assert wording.fill("{a} and {b}", {"a": "{b}", "b": "x"}) == "{b} and x"
    with pytest.raises(InvalidInput) as refused:
        wording.check("sms.ack_open", "{service_name.__class__.__mro__}")
    assert refused.value.code == "invalid_placeholder"


def test_the_next_opening_in_danish_and_english_date_words():
    words = Wording()
    zone = "Europe/Copenhagen"
    assert words.when("da", MONDAY_9, NOW, zone) == "mandag den 30. november kl. 9.00"
    assert words.when("en", MONDAY_9, NOW, zone) == "on Monday 30 November at 09:00"
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert words.when("da", saturday, NOW, zone) == "i morgen kl. 10.00"


def test_a_managers_edit_replaces_the_default_and_the_name_follows_everywhere():
    edits = [TemplateVersion("da", "service_name", "UU-chatten", 1, "boss", NOW)]
    words = Wording(edits, "da")
    assert words.say("da", "voice.welcome_open") == "Velkommen til UU-chatten."
    assert words.say("en", "voice.welcome_open") == "Welcome to the guidance helpline."
    assert words.language("xx") == "da" and Wording(default="en").language(None) == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hej, hvilken uddannelse passer til mig?", "da"),
        ("Hvad skal jeg vælge", "da"),
        ("Hi, which education fits me?", "en"),
        ("HELP", "en"),
        ("ok", None),
        ("", None),
    ],
)
def test_the_language_of_a_first_message(text, language):
    assert wording.identify(text).language == language


@pytest.mark.parametrize(
    ("text", "language", "sure"),
    [
        ("Hej, hvilken uddannelse passer til mig?", "da", True),
        ("Tak for hjælpen", "da", True),  # Danish letters
        ("Hi, which education fits me?", "en", True),
        ("tak", "da", False),  # one word is no reason to change a citizen's language
        ("thanks ok", "en", False),
        ("HELP", "en", False),
        ("hi jeg", None, False),
        ("ok", None, False),
    ],
)
def test_only_enough_words_are_a_sure_guess(text, language, sure):
    assert wording.identify(text) == wording.Guess(language, sure)


@pytest.mark.parametrize(
    ("text", "encoding", "length", "parts"),
    [
        ("å" * 160, "GSM-7", 160, 1),
        ("Æ" * 161, "GSM-7", 161, 2),
        ("€" * 81, "GSM-7", 162, 2),  # extension-table characters count twice
        ("[x]" * 40, "GSM-7", 200, 2),
        ("ü" * 306, "GSM-7", 306, 2),
        ("ü" * 307, "GSM-7", 307, 3),
        ("🙂" * 35, "UCS-2", 70, 1),
        ("ł" * 71, "UCS-2", 71, 2),
    ],
)
def test_sms_segments(text, encoding, length, parts):
    assert (segments.encoding(text), segments.length(text), segments.count(text)) == (
        encoding,
        length,
        parts,
    )
