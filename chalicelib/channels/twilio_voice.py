"""Twilio Voice webhooks: parse calls into domain objects, render the menu's answers as TwiML."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Identity, InboundMessage
from chalicelib.domain.safeguarding_texts import PHONE_DANGER
from chalicelib.domain.voice import (
    CallbackNumber,
    Connect,
    Crisis,
    Goodbye,
    Next,
    Options,
    TopicMenu,
    Voicemail,
    Welcome,
)

E164 = re.compile(r"\+[1-9]\d{6,14}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
# What Twilio puts in From when the caller id is withheld, restricted, blocked or unavailable.
WITHHELD = {"+266696687", "+7378742833", "+2562533", "+8656696", "anonymous", "restricted"}
LANGUAGE = "en-GB"
VOICES = {"da": "da-DK", "en": "en-GB"}  # Twilio's <Say> language for a text's language
DIAL_TIMEOUT_SECONDS = 20
VOICEMAIL_MAX_SECONDS = 120

Url = Callable[[str], str]  # menu step → absolute URL of /webhooks/twilio/voice/menu?step=…


def call_sid(form: dict[str, str]) -> str:
    sid = form.get("CallSid", "")
    if not CALL_SID.fullmatch(sid):
        raise InvalidInput("CallSid is missing or malformed.", code="invalid_CallSid")
    return sid


def caller(form: dict[str, str]) -> str | None:
    """The caller's number, or None when it is withheld."""
    number = form.get("From", "").strip()
    return number if E164.fullmatch(number) and number not in WITHHELD else None


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


def parse_step(step: str | None) -> tuple[str, str, int]:
    """'topic-2' → ('topic', '', 2); 'offer-closed-1' → ('offer', 'closed', 1)."""
    parts = (step or "topic-1").split("-")
    kind, reason, attempt = parts[0], "", 1
    if kind == "offer" and len(parts) >= 2:
        reason = parts[1]
    if re.fullmatch(r"[0-9]{1,2}", parts[-1]):  # str.isdigit() also takes "²", which int() refuses
        attempt = max(1, min(int(parts[-1]), 9))
    if kind not in {"topic", "dialed", "offer", "callback", "recorded"}:
        raise InvalidInput("Unknown menu step.", code="invalid_step")
    if kind == "offer" and reason not in {"closed", "busy", "no_answer"}:
        reason = "busy"
    return kind, reason, attempt


def recording(form: dict[str, str]) -> tuple[str, str, int, str]:
    """(RecordingSid, RecordingUrl, duration in seconds, RecordingStatus)."""
    sid, url = form.get("RecordingSid", ""), form.get("RecordingUrl", "")
    if not re.fullmatch(r"RE[0-9a-fA-F]{32}", sid) or not url.startswith("https://"):
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


def call_status(form: dict[str, str]) -> tuple[str, int | None]:
    status = form.get("CallStatus", "").strip().lower()
    if not status:
        raise InvalidInput("Missing field CallStatus.", code="missing_CallStatus")
    return status, _seconds(form, "CallDuration")


# --- TwiML ---------------------------------------------------------------------------------

TOPICS = (
    "For education and study choices, press 1 or say education. "
    "For careers and jobs, press 2 or say careers. For anything else, press 3."
)


def bridge(citizen: str, caller_id: str | None) -> str:
    """A callback: what the practitioner hears when they pick up, then the citizen's number
    dialled with our number as the caller id."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say("Calling the citizen back now.", language=LANGUAGE)
    response.dial(citizen, caller_id=caller_id)
    return str(response)


def welcome(greeting: Welcome, url: Url) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    for language, text in PHONE_DANGER.items():  # before anything else, in every language
        response.say(text, language=VOICES.get(language, LANGUAGE))
    if greeting.open:
        response.say("Welcome to the guidance helpline.", language=LANGUAGE)
        return str(_topics(response, 1, url))
    response.say(
        "Thank you for calling the guidance helpline. We are closed right now. "
        f"{greeting.reopening}",
        language=LANGUAGE,
    )
    return str(_options(response, Options("closed", 1, greeting.call.caller is not None), url))


def answer(next_step: Next, url: Url, recording_callback: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    if isinstance(next_step, Crisis):
        response.say(next_step.text, language=VOICES.get(next_step.language, LANGUAGE))
        next_step = next_step.then
    if isinstance(next_step, TopicMenu):
        response.say("Sorry, I did not get that.", language=LANGUAGE)
        _topics(response, next_step.attempt, url)
    elif isinstance(next_step, Connect):
        response.say("Connecting you to a guidance counsellor.", language=LANGUAGE)
        dial = response.dial(
            timeout=DIAL_TIMEOUT_SECONDS, action=url("dialed"), method="POST", answer_on_bridge=True
        )
        if next_step.phone:
            dial.number(next_step.phone)
        else:
            dial.client(next_step.practitioner_id)
    elif isinstance(next_step, Options):
        reason = {
            "busy": "All our counsellors are busy right now.",
            "no_answer": "Sorry, the counsellor could not answer.",
            "closed": "",
        }[next_step.reason]
        if next_step.attempt > 1:
            reason = "Sorry, I did not get that."
        if reason:
            response.say(reason, language=LANGUAGE)
        _options(response, next_step, url)
    elif isinstance(next_step, Voicemail):
        response.say(
            "Please leave your message after the tone, and press the hash key when you are done.",
            language=LANGUAGE,
        )
        response.record(
            max_length=VOICEMAIL_MAX_SECONDS,
            play_beep=True,
            finish_on_key="#",
            action=url("recorded"),
            method="POST",
            recording_status_callback=recording_callback,
            recording_status_callback_method="POST",
        )
        response.say("We did not get a message. Goodbye.", language=LANGUAGE)
    elif isinstance(next_step, CallbackNumber):
        gather = response.gather(
            input="dtmf",
            finish_on_key="#",
            timeout=10,
            action=url(f"callback-{next_step.attempt}"),
            method="POST",
        )
        if next_step.caller_last_digits:
            digits = " ".join(next_step.caller_last_digits)
            gather.say(
                f"We will call you back on the number ending in {digits}. Press 1 to "
                "confirm, or type another number with its country code, then the hash "
                "key.",
                language=LANGUAGE,
            )
        else:
            gather.say(
                "Please type the number we should call, with its country code, then the hash key.",
                language=LANGUAGE,
            )
        response.redirect(url(f"callback-{next_step.attempt}"), method="POST")
    else:
        assert isinstance(next_step, Goodbye)
        response.say(next_step.text, language=LANGUAGE)
        response.hangup()
    return str(response)


def _ask(response: Any, step: str, hints: str, text: str, url: Url) -> Any:
    """One keypress or a spoken word; silence asks the same step again."""
    gather = response.gather(
        input="dtmf speech",
        num_digits=1,
        timeout=6,
        speech_timeout="auto",
        hints=hints,
        language=LANGUAGE,
        action=url(step),
        method="POST",
    )
    gather.say(text, language=LANGUAGE)
    response.redirect(url(step), method="POST")
    return response


def _topics(response: object, attempt: int, url: Url) -> object:
    return _ask(response, f"topic-{attempt}", "education, careers, jobs, other", TOPICS, url)


def _options(response: object, options: Options, url: Url) -> object:
    text = "To leave a voicemail, press 1."
    if options.can_call_back:
        text += " To have a counsellor call you back, press 2."
    step = f"offer-{options.reason}-{options.attempt}"
    return _ask(response, step, "voicemail, callback", text, url)
