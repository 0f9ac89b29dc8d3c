"""Managers change what citizens read without a deployment: each template per language, the
service's name and its sign-off (themselves templates, placeholders of all the others).

An edit is checked by the same rules as the shipped defaults (`wording.check`), stored as a new
version (conditional: two managers saving at once cannot both be version n) and audited; a
preview renders any wording with sample values and, for what goes by SMS, its encoding and
segment count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain import autoreplies, segments, wording
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.model import Actor
from chalicelib.domain.wording import KEYS, LANGUAGES, TemplateVersion

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, PrivacyStore, TemplateStore

# What goes out by SMS (webinar messages do too, to a booker who gave a number).
NOT_SMS = {
    "webinar.when",
    "webinar.cancel_link",
    "webinar.subject_booked",
    "webinar.subject_cancelled",
}
SMS_KEYS = frozenset(
    key
    for key in KEYS
    if key.startswith("sms.") or (key.startswith("webinar.") and key not in NOT_SMS)
)
SAMPLES = {
    "title": "Hvad vil du være?",
    "join_url": "https://webinar.example.org/j/123",
    "url": "https://helpline.example.org/bookings/abc/cancel",
    "position": "3",
    "digits": "0 1",
    "digit": "1",
    "hour": "9",
    "hh": "09",
    "minute": "00",
    "crisis_lines": "112, Livslinien 70 201 201, Børnetelefonen 116 111",
}


def _known(language: str, key: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(
            f"We have no templates in {language!r}; use one of {', '.join(LANGUAGES)}.",
            code="unknown_language",
        )
    if key not in KEYS:
        raise InvalidInput(f"There is no template {key!r}.", code="unknown_template")


def listing(deps: Deps) -> dict[str, Any]:
    """Every template in every language as citizens get it now, beside its default."""
    words = deps.wording()
    return {
        "languages": list(LANGUAGES),
        "default_language": words.default,
        "templates": {
            language: {key: entry(words, language, key) for key in KEYS} for language in LANGUAGES
        },
    }


def entry(words: wording.Wording, language: str, key: str) -> dict[str, Any]:
    edit = words.version(language, key)
    return {
        "text": words.text(language, key),
        "default": wording.DEFAULTS[language][key],
        "placeholders": sorted(wording.allowed(key)),
        "version": edit.version if edit else 0,
        "edited_by": edit.by if edit else None,
        "edited_at": edit.at if edit else None,
        "sms": key in SMS_KEYS,
    }


def edit(
    deps: Deps, actor: Actor, language: str, key: str, text: str, read: int | None = None
) -> TemplateVersion:
    """The new wording, stored as the next version and audited; the next citizen reads it.
    `read` (the version the manager edited) refuses to overwrite a colleague's later save."""
    _known(language, key)
    wording.check(key, text)
    store: TemplateStore = deps.store
    history = store.template_versions(language, key)
    latest = history[-1].version if history else 0
    now = deps.clock()
    version = TemplateVersion(language, key, text, latest + 1, actor.user_id, now)
    if (read is not None and read != latest) or not store.save_template(version):
        raise Conflict("Another manager changed this template meanwhile; reload it.")
    audit: PrivacyStore = deps.store
    audit.audit(
        "template_edit", f"{language}/{key}", actor.user_id, now, {"version": version.version}
    )
    return version


def versions(deps: Deps, language: str, key: str) -> list[TemplateVersion]:
    _known(language, key)
    store: TemplateStore = deps.store
    return store.template_versions(language, key)


def preview(deps: Deps, fields: dict[str, Any]) -> dict[str, Any]:
    """`text` (else the template as it stands) rendered with sample values (`values` replace
    them); for SMS, its encoding and parts, and whether it fits one."""
    language, key = fields["language"], fields["key"]
    _known(language, key)
    words = deps.wording()
    text = fields.get("text", words.text(language, key))
    wording.check(key, text)
    rendered = wording.fill(text, {**_samples(words, language, deps), **fields.get("values", {})})
    answer: dict[str, Any] = {"language": language, "key": key, "text": rendered}
    if key in SMS_KEYS:
        count = segments.count(rendered)
        answer["sms"] = {
            "encoding": segments.encoding(rendered),
            "length": segments.length(rendered),
            "segments": count,
            "single_segment": count == 1,
        }
    return answer


def _samples(words: wording.Wording, language: str, deps: Deps) -> dict[str, str]:
    """Every placeholder's sample in `language`: the real next opening (or one tomorrow)."""
    hours, now = deps.hours(), deps.clock()
    opening = autoreplies.next_opening(words, language, hours, now)
    later = now + timedelta(days=3)
    date = words.date_words(language, later.astimezone(hours.tz))
    shared = {name: words.text(language, name) for name in wording.SHARED}
    return {
        **SAMPLES,
        **shared,
        **date,
        "next_opening": opening or words.when(language, later, now, hours.timezone),
        "when": words.say(language, "webinar.when", **date),
        "cancel_link": words.say(language, "webinar.cancel_link", url=SAMPLES["url"]),
    }
