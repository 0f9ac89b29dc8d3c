"""Twilio Voice webhooks: parse calls into domain objects, render the menu's answers as TwiML."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalicelib.domain.destinations import E164
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Identity, InboundMessage
from chalicelib.domain.voice import (
    LANGUAGE_WORDS,
    CallbackNumber,
    Connect,
    Crisis,
    Goodbye,
    Greeting,
    Menu,
    Next,
    Options,
    RateCall,
    Voicemail,
)
from chalicelib.domain.wording import LANGUAGES, META, Wording

CALL_SID = r"CA[0-9a-fA-F]{32}"
# What Twilio puts in From when the caller id is withheld, restricted, blocked or unavailable.
WITHHELD = {"+266696687", "+7378742833", "+2562533", "+8656696", "anonymous", "restricted"}
LANGUAGE = "en-GB"  # what a practitioner hears on a callback's bridge
DIAL_TIMEOUT_SECONDS = 20
VOICEMAIL_MAX_SECONDS = 120
TWILIO_API = "https://api.twilio.com/"

Url = Callable[[str], str]  # menu step → absolute URL of /webhooks/twilio/voice/menu?step=…


def call_sid(form: dict[str, str]) -> str:
    sid = form.get("CallSid", "")
    if not re.fullmatch(CALL_SID, sid):
        raise InvalidInput("CallSid is missing or malformed.", code="invalid_CallSid")
    return sid


def caller(form: dict[str, str]) -> str | None:
    """The caller's number, or None when it is withheld."""
    number = form.get("From", "").strip()
    return number if re.fullmatch(E164, number) and number not in WITHHELD else None


def parse_call(form: dict[str, str]) -> InboundMessage:
    sid, number = call_sid(form), caller(form)
    # A withheld number cannot identify anyone: that call is its own anonymous contact.
    sender = Identity("phone", number) if number else Identity("anonymous", sid)
    return InboundMessage(
        channel="voice",
        provider="twilio",
        provider_id=sid,
        sender=sender,
        recipient=form.get("To", ""),
        body="Incoming call",
    )


def choice(form: dict[str, str]) -> str | None:
    return form.get("Digits") or form.get("SpeechResult") or None


def parse_step(step: str | None) -> tuple[str, str, int, str | None]:
    """'da.topic-2' → ('topic', '', 2, 'da'); 'en.offer-closed-1' → ('offer', 'closed', 1, 'en').
    The caller's language travels in the step (None: not chosen, or not one we speak)."""
    language, _, step = (step or "").rpartition(".")
    parts = (step or "topic-1").split("-")
    kind, reason, attempt = parts[0], "", 1
    if kind == "offer" and len(parts) >= 2:
        reason = parts[1]
    if re.fullmatch(r"[0-9]{1,2}", parts[-1]):  # str.isdigit() also takes "²", which int() refuses
        attempt = max(1, min(int(parts[-1]), 9))
    if kind not in {"lang", "topic", "dialed", "offer", "callback", "recorded", "rate"}:
        raise InvalidInput("Unknown menu step.", code="invalid_step")
    if kind == "offer" and reason not in {"closed", "busy", "no_answer"}:
        reason = "busy"
    return kind, reason, attempt, language if language in LANGUAGES else None


def recording(form: dict[str, str]) -> tuple[str, str, int, str]:
    """(RecordingSid, RecordingUrl, duration in seconds, RecordingStatus). The URL must be on
    api.twilio.com (the signature proves Twilio sent it; this keeps any other address off the
    case). Nothing fetches it: the recording is fetched by its SID from our own account."""
    sid, url = form.get("RecordingSid", ""), form.get("RecordingUrl", "")
    if not re.fullmatch(r"RE[0-9a-fA-F]{32}", sid) or not url.startswith(TWILIO_API):
        raise InvalidInput(
            "RecordingSid or RecordingUrl is missing or malformed.", code="invalid_recording"
        )
    return (
        sid,
        url,
        _seconds(form, "RecordingDuration") or 0,
        form.get("RecordingStatus", "completed"),
    )


def _seconds(form: dict[str, str], name: str) -> int | None:
    """A duration Twilio reports: ASCII digits, at most a day's worth of them (int() would take
    other scripts' digits, and a 400-digit number is more than DynamoDB stores: a 500)."""
    value = form.get(name)
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", value):
        raise InvalidInput(f"{name} must be a number of seconds.", code=f"invalid_{name}")
    return int(value)


def dial_seconds(form: dict[str, str]) -> int | None:
    """How long the <Dial>'s bridged call lasted (DialCallDuration), when it was answered."""
    return _seconds(form, "DialCallDuration")


def call_status(form: dict[str, str]) -> tuple[str, int | None]:
    status = form.get("CallStatus", "").strip().lower()
    if not status:
        raise InvalidInput("Missing field CallStatus.", code="missing_CallStatus")
    return status, _seconds(form, "CallDuration")


# --- TwiML ---------------------------------------------------------------------------------


class Speaker:
    """Says templates in one language, with its own voice (Polly.Naja for Danish), and tags
    every menu URL with it, so the whole call stays in the language the caller chose."""

    def __init__(self, words: Wording, language: str | None, url: Url) -> None:
        self.words, self.language = words, words.language(language)
        self.meta, self.plain_url = META[self.language], url

    def url(self, step: str) -> str:
        return self.plain_url(f"{self.language}.{step}")

    def text(self, key: str, **values: str) -> str:
        return self.words.say(self.language, key, **values)

    def say(self, node: Any, text: str) -> None:
        node.say(text, language=self.meta["speech"], voice=self.meta["voice"])


def bridge(citizen: str, caller_id: str | None) -> str:
    """A callback: what the practitioner hears when they pick up, then the citizen's number
    dialled with our number as the caller id."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say("Calling the citizen back now.", language=LANGUAGE)
    response.dial(citizen, caller_id=caller_id)
    return str(response)


def welcome(words: Wording, url: Url) -> str:
    """The first question, before anything else: each language offered in its own voice."""
    return answer(Menu("lang", 1), Speaker(words, None, url), "")


def answer(next_step: Next, speaker: Speaker, recording_callback: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    if isinstance(next_step, Crisis):
        crisis = Speaker(speaker.words, next_step.language, speaker.plain_url)
        crisis.say(response, crisis.text("voice.crisis", crisis_lines=next_step.crisis_lines))
        next_step = next_step.then
    if isinstance(next_step, Menu):
        if next_step.attempt > 1:
            speaker.say(response, speaker.text("voice.not_understood"))
        ask = _languages if next_step.question == "lang" else _topics
        ask(response, next_step.attempt, speaker)
    elif isinstance(next_step, Greeting):
        speaker = Speaker(speaker.words, next_step.language, speaker.plain_url)
        if next_step.open:
            speaker.say(response, speaker.text("voice.welcome_open"))
            _topics(response, 1, speaker)
        else:
            key, values = "voice.welcome_no_hours", {}
            if next_step.next_opening:
                key, values = "voice.welcome_closed", {"next_opening": next_step.next_opening}
            speaker.say(response, speaker.text(key, **values))
            _options(response, Options("closed", 1, next_step.can_call_back), speaker)
    elif isinstance(next_step, Connect):
        speaker.say(response, speaker.text("voice.connecting"))
        dial = response.dial(
            timeout=DIAL_TIMEOUT_SECONDS,
            action=speaker.url("dialed"),
            method="POST",
            answer_on_bridge=True,
        )
        if next_step.phone:
            dial.number(next_step.phone)
        else:
            dial.client(next_step.practitioner_id)
    elif isinstance(next_step, Options):
        reason = {"busy": "voice.busy", "no_answer": "voice.no_answer", "closed": ""}[
            next_step.reason
        ]
        if next_step.attempt > 1:
            reason = "voice.not_understood"
        if reason:
            speaker.say(response, speaker.text(reason))
        _options(response, next_step, speaker)
    elif isinstance(next_step, Voicemail):
        speaker.say(response, speaker.text("voice.leave_message"))
        response.record(
            max_length=VOICEMAIL_MAX_SECONDS,
            play_beep=True,
            finish_on_key="#",
            action=speaker.url("recorded"),
            method="POST",
            recording_status_callback=recording_callback,
            recording_status_callback_method="POST",
        )
        speaker.say(response, speaker.text("voice.no_message"))
    elif isinstance(next_step, CallbackNumber):
        step = speaker.url(f"callback-{next_step.attempt}")
        gather = response.gather(
            input="dtmf", finish_on_key="#", timeout=10, action=step, method="POST"
        )
        if next_step.caller_last_digits:
            digits = " ".join(next_step.caller_last_digits)
            speaker.say(gather, speaker.text("voice.confirm_number", digits=digits))
        else:
            speaker.say(gather, speaker.text("voice.type_number"))
        response.redirect(step, method="POST")
    elif isinstance(next_step, RateCall):
        gather = response.gather(
            input="dtmf", num_digits=1, timeout=8, action=speaker.url("rate"), method="POST"
        )
        speaker.say(gather, speaker.text("voice.survey"))
        speaker.say(response, speaker.text("voice.goodbye_answered"))
        response.hangup()
    else:
        assert isinstance(next_step, Goodbye)
        speaker.say(response, speaker.text(next_step.key))
        response.hangup()
    return str(response)


def _ask(response: Any, action: str, hints: str, texts: list[tuple[Speaker, str]]) -> Any:
    """One keypress or a spoken word, heard in the first speaker's language; silence asks the
    same step again."""
    gather = response.gather(
        input="dtmf speech",
        num_digits=1,
        timeout=6,
        speech_timeout="auto",
        hints=hints,
        language=texts[0][0].meta["speech"],
        action=action,
        method="POST",
    )
    for speaker, text in texts:
        speaker.say(gather, text)
    response.redirect(action, method="POST")
    return response


def _languages(response: Any, attempt: int, speaker: Speaker) -> Any:
    """'Tryk 1 for dansk. Press 2 for English.', each in its own voice, the service's default
    first; speech is heard in the default language, with every language's name as a hint. The
    step carries no language yet."""
    words = speaker.words
    offers = [
        (Speaker(words, language, speaker.plain_url), digit)
        for digit, language in enumerate(LANGUAGES, 1)
    ]
    offers.sort(key=lambda offer: offer[0].language != words.default)
    if attempt == 1:  # before anything else: a caller in danger hangs up and calls 112
        for each, _ in offers:
            each.say(response, each.text("voice.danger"))
    texts = [(each, each.text("voice.choose_language", digit=str(n))) for each, n in offers]
    hints = ", ".join(LANGUAGE_WORDS)
    return _ask(response, speaker.plain_url(f"lang-{attempt}"), hints, texts)


def _topics(response: Any, attempt: int, speaker: Speaker) -> Any:
    hints = speaker.text("voice.topic_hints")
    text = speaker.text("voice.topics")
    return _ask(response, speaker.url(f"topic-{attempt}"), hints, [(speaker, text)])


def _options(response: Any, options: Options, speaker: Speaker) -> Any:
    text = speaker.text("voice.option_voicemail")
    if options.can_call_back:
        text += " " + speaker.text("voice.option_callback")
    step = speaker.url(f"offer-{options.reason}-{options.attempt}")
    return _ask(response, step, "voicemail, callback, besked, ring", [(speaker, text)])
