"""Every word the service says to a citizen, in every language it speaks.

The defaults are data, one JSON file per language under `templates/` (`da.json`, `en.json`),
and `templates/keys.json` names every template and the placeholders it may use. Data rather than
code so that a language is added by adding a file, and a template (a crisis answer, say) by one
line in `keys.json` and one per language file: no function changes. The files are checked when
this module is imported (every key in every language, every placeholder known, the date words
complete), so a broken default stops a container at its cold start, never in front of a citizen.

Managers' edits (`TemplateVersion`) replace a default per language and key; they are checked by
the same rules before they are stored. Rendering substitutes `{name}` tokens only, in one pass:
no format-string attribute or index access, and a value (a webinar title, say) is never scanned
for placeholders itself.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.records import record

TEMPLATE_DIR = Path(__file__).parent / "templates"
PLACEHOLDER = r"\{([a-z_]+)\}"
SHARED = ("service_name", "sign_off")  # settings: a placeholder of every other template
MAX_CHARS = 1600  # ten SMS parts; far beyond any default


@record
class TemplateVersion:
    """One manager's wording of one template in one language; versions count from 1."""

    language: str
    key: str
    text: str
    version: int
    by: str
    at: datetime


def _read(name: str) -> Any:
    return json.loads((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def allowed(key: str) -> frozenset[str]:
    """The placeholders `key` may use: its own and, but for the settings themselves, the
    service's name and sign-off."""
    own = frozenset(KEYS[key])
    return own if key in SHARED else own | frozenset(SHARED)


def problem(key: str, text: str) -> tuple[str, str] | None:
    """(code, message) of the first thing wrong with `text` as the wording of `key`, or None."""
    if key not in KEYS:
        return "unknown_template", f"There is no template {key!r}."
    if not text.strip() or len(text) > MAX_CHARS:
        return "invalid_template", f"A template holds 1 to {MAX_CHARS} characters."
    # Every refused character is one `isprintable` refuses too: the per-character look (about a
    # millisecond for the defaults, checked at every cold start) only where that says there may be.
    if not text.replace("\n", "").isprintable():
        for ch in text:
            category = unicodedata.category(ch)
            if (category == "Cc" and ch != "\n") or category in ("Cf", "Zl", "Zp", "Cs", "Co"):
                return "invalid_template", (
                    "A template may hold line breaks, but no other control or format characters."
                )
    if "{" in re.sub(PLACEHOLDER, "", text) or "}" in re.sub(PLACEHOLDER, "", text):
        return "invalid_placeholder", "Braces are only for placeholders such as {service_name}."
    unknown = sorted(set(re.findall(PLACEHOLDER, text)) - allowed(key))
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in sorted(allowed(key))) or "none"
        return "unknown_placeholder", f"Unknown placeholder {{{unknown[0]}}}; {key} takes {names}."
    if key in WORD_LISTS and len(text.split()) != WORD_LISTS[key]:
        return "invalid_template", f"{key} lists {WORD_LISTS[key]} words, separated by spaces."
    return None


def check(key: str, text: str) -> None:
    """A 400 naming the problem, for a manager's edit."""
    found = problem(key, text)
    if found:
        raise InvalidInput(found[1], code=found[0])


def _load() -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]], dict[str, Any]]:
    keys = {key: tuple(names) for key, names in _read("keys.json").items()}
    texts: dict[str, dict[str, str]] = {}
    meta: dict[str, Any] = {}
    for path in sorted(TEMPLATE_DIR.glob("*.json")):
        if path.stem != "keys":
            data = _read(path.name)
            texts[path.stem], meta[path.stem] = data["templates"], data["meta"]
    return keys, texts, meta


KEYS, DEFAULTS, META = _load()
LANGUAGES = tuple(DEFAULTS)
WORD_LISTS = {"date.weekdays": 7, "date.months": 12}


def defaults_problems() -> list[str]:
    """Everything wrong with the shipped defaults (empty when they are whole). Held to by the
    tests (test_wording), which every change passes before it ships, rather than at every cold
    start, where it cost each container's first request ~0.5 ms."""
    found = []
    for language, texts in DEFAULTS.items():
        for key in sorted(set(KEYS) | set(texts)):
            if key not in texts:
                found.append(f"{language}: {key} is missing")
                continue
            issue = problem(key, texts[key])
            if issue:
                found.append(f"{language}: {key}: {issue[1]}")
    return found


def fill(text: str, values: dict[str, str]) -> str:
    """One pass over `{name}` tokens; a token without a value is left as written."""
    return re.sub(PLACEHOLDER, lambda m: values.get(m.group(1), m.group(0)), text)


class Wording:
    """The defaults with managers' current edits over them, for one language at a time."""

    def __init__(self, overrides: Iterable[TemplateVersion] = (), default: str = "da") -> None:
        self.default = default if default in LANGUAGES else LANGUAGES[0]
        self.edits = {(v.language, v.key): v for v in overrides if v.key in KEYS}

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    def language(self, value: str | None) -> str:
        """A language we speak: `value` if we have its templates, else the service's default."""
        return value if value in DEFAULTS else self.default

    def spoken(self, value: str) -> str:
        """`value`, a language a citizen or a practitioner chose: a 400 if we do not speak it
        (a forged code must not become a contact's language, nor silently the default)."""
        if value not in DEFAULTS:
            raise InvalidInput(f"We do not speak {value!r} yet.", code="unknown_language")
        return value

    def text(self, language: str, key: str) -> str:
        """The template as it stands (a manager's latest edit, else the default)."""
        language = self.language(language)
        edit = self.edits.get((language, key))
        return edit.text if edit else DEFAULTS[language][key]

    def version(self, language: str, key: str) -> TemplateVersion | None:
        return self.edits.get((language, key))

    def say(self, language: str, key: str, **values: str) -> str:
        """`key` in `language` with its placeholders filled; the name and sign-off always."""
        shared = {name: self.text(language, name) for name in SHARED if name != key}
        return fill(self.text(language, key), {**shared, **values})

    def when(self, language: str, at: datetime, now: datetime, timezone: str) -> str:
        """'i morgen kl. 9.00', 'on Monday 30 November at 09:00': in the service's zone, with
        the language's own date words (data in its templates, not a locale of the machine)."""
        zone = ZoneInfo(timezone)
        local, today = at.astimezone(zone), now.astimezone(zone).date()
        words = self.date_words(language, local)
        days = (local.date() - today).days
        if days == 0:
            return self.say(language, "date.today", time=words["time"])
        if days == 1:
            return self.say(language, "date.tomorrow", time=words["time"])
        return self.say(language, "date.later", **words)

    def date_words(self, language: str, local: datetime) -> dict[str, str]:
        """The weekday, day, month and time of a local time in `language`'s words, for
        `date.later` and `webinar.when`."""
        weekdays = self.text(language, "date.weekdays").split()
        months = self.text(language, "date.months").split()
        clock = {"hour": str(local.hour), "hh": f"{local.hour:02d}", "minute": f"{local:%M}"}
        return {
            "weekday": weekdays[local.weekday()],
            "day": str(local.day),
            "month": months[local.month - 1],
            "time": self.say(language, "date.time", **clock),
        }


# --- which language a first message is in ----------------------------------------------------

# A deliberately tiny rule (docs/architecture.md, "Languages"): a language identifier from PyPI
# costs more of the Lambda package and cold start than telling Danish from English needs.
DANISH_LETTERS = r"[æøåÆØÅ]"
WORDS = {
    "da": frozenset(
        "hej jeg du det er og ikke hvad hvordan hvor kan vil skal har til med min mit mig "
        "om en et tak gerne uddannelse job hjælp hvilken hvilke noget godt".split()
    ),
    "en": frozenset(
        "hi hello i you it is and not what how where can will should have to with my me "
        "about a an the thanks please education which want need "
        # Twilio's keywords are English words: HELP or START is answered in English
        "help info start yes unstop optin".split()
    ),
}


@record
class Guess:
    """The language a message's words suggest (None: no clue), and whether they are enough to
    override what we know of the citizen: "tak" or "ok" alone are not."""

    language: str | None
    sure: bool


SURE_WORDS = 2  # marker words more than the other language's for a sure guess


def identify(text: str) -> Guess:
    """'da' for Danish letters (sure) or more Danish than English function words, 'en' for more
    English ones; sure with `SURE_WORDS` more of them than of the other language's."""
    if re.search(DANISH_LETTERS, text):
        return Guess("da", True)
    words = re.findall(r"[a-z]+", text.lower())
    scores = sorted(
        ((sum(w in known for w in words), language) for language, known in WORDS.items()),
        reverse=True,
    )
    (best, language), (second, _) = scores[0], scores[1]
    if best == second:
        return Guess(None, False)
    return Guess(language, best - second >= SURE_WORDS)
